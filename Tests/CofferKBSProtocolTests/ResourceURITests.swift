import CofferKBSProtocol
import Testing

@Suite struct ResourceURITests {
    @Test func parsesTheURIAndThePath() throws {
        let uri = try ResourceURI(parsing: "kbs:///default/key/disk-1.v2_x")
        #expect(uri.repository == "default" && uri.type == "key" && uri.tag == "disk-1.v2_x")
        #expect(uri.uri == "kbs:///default/key/disk-1.v2_x" && uri.path == "default/key/disk-1.v2_x")
        #expect(try ResourceURI(path: "default/key/disk-1.v2_x") == uri)
        #expect(try ResourceURI(parsing: uri.uri) == uri)
    }

    @Test(arguments: [
        "kbs://default/key/disk", "kbs:///default/key", "kbs:///default/key/disk/extra", "kbs:///default//disk",
        "kbs:///../key/disk", "kbs:///default/./disk", "kbs:///default/key/", "kbs:////key/disk", "kbs:///a b/key/disk",
        "kbs:///default/key/disk?x=1", "kbs:///default/key/d%2Fe", "kbs:///default/key/\u{e9}", "https:///default/key/disk",
        "default/key/disk", "", "kbs:///", "KBS:///default/key/disk",
    ])
    func refusesAnythingElse(text: String) {
        #expect(throws: ResourceURI.Malformed.self, "\(text)") { try ResourceURI(parsing: text) }
    }

    @Test func errorsSayWhatIsWrong() {
        func message(_ body: () throws -> ResourceURI) -> String? {
            do { _ = try body(); return nil } catch { return "\(error)" }
        }
        #expect(message { try ResourceURI(parsing: "kbs://host/a/b/c") }?.contains("three slashes") == true)
        #expect(message { try ResourceURI(path: "a/b") } == "resource \"a/b\" must have three segments, repository/type/tag (it has 2)")
        #expect(message { try ResourceURI(path: "a/../c") } == "resource type segment \"..\" is not allowed")
        #expect(message { try ResourceURI(path: "a//c") } == "resource type segment is empty")
        #expect(message { try ResourceURI("a", "b", String(repeating: "x", count: 129)) } == "resource tag segment is longer than 128 bytes")
        #expect(message { try ResourceURI("a", "b", String(repeating: "x", count: 128)) } == nil)
        #expect(message { try ResourceURI(path: "a/b/c;d") }?.contains("letters, digits") == true)
    }
}
