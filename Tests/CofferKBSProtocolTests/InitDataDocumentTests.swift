import CofferCore
import CofferTestSupport
import Foundation
import Testing

@testable import CofferKBSProtocol

@Suite struct InitDataDocumentTests {
    static let entries: [(key: String, value: String)] = [
        ("coffer.json", "{\"kbs\":{\"url\":\"https://127.0.0.1:8443\"}}"),
        ("note", "it's \"quoted\"\\ and\ttabbed\nsecond line"),
        ("awkward", "ends with a quote '''"),
        ("control", "bell\u{07}and\r\nCRLF"),
    ]

    /// Coffer's writer is fixed: these bytes and this digest feed every launch measurement that
    /// carries init-data, so a change here must be deliberate (and invalidates reference values).
    @Test func goldenLayoutAndDigest() throws {
        let document = try InitDataDocument(data: [("coffer.json", "{\"kbs\":{\"url\":\"https://127.0.0.1:8443\"}}")])
        #expect(document.text == """
            version = "0.1.0"
            algorithm = "sha384"

            [data]
            "coffer.json" = '''
            {"kbs":{"url":"https://127.0.0.1:8443"}}'''

            """)
        #expect(Hex.encode(document.digest) == "7ac95650943729ad115d79722b3389d1c95f501315956925cc544a3f6e33a0c93d1ff31902df8e828a3399e78830ee1a")
    }

    @Test func roundTripsEveryValueExactlyAsPythonReadsIt() throws {
        let document = try InitDataDocument(data: Self.entries)
        let again = try InitDataDocument(parsing: document.bytes)
        #expect(again.data.map(\.key) == Self.entries.map(\.key))
        #expect(again.data.map(\.value) == Self.entries.map(\.value))
        let directory = try TemporaryDirectory()
        let path = try directory.write("initdata.toml", document.text)
        let script = "import hashlib,json,sys,tomllib; b=open(sys.argv[1],'rb').read(); d=tomllib.loads(b.decode()); print(json.dumps({'digest': hashlib.sha384(b).hexdigest(), 'data': d['data']}))"
        let result = try run("python3", ["-c", script, path])
        #expect(result.status == 0, "\(result.stderr)")
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(reference["digest"] as? String == Hex.encode(document.digest))
        let data = try #require(reference["data"] as? [String: String])
        #expect(data == Dictionary(uniqueKeysWithValues: Self.entries.map { ($0.key, $0.value) }))
    }

    /// What Confidential Containers' tooling writes (trustee kbs/docs/initdata.md) is read as is.
    @Test func readsAConfidentialContainersDocument() throws {
        let text = """
            algorithm = "sha256"
            version = "0.1.0"

            [data]
            "aa.toml" = '''
            [token_configs]
            [token_configs.coco_as]
            url = 'http://127.0.0.1:8000'
            '''

            "policy.rego" = '''
            package agent_policy
            default AllowRequestsFailingPolicy := true
            '''
            """
        let document = try InitDataDocument(parsing: Array(text.utf8))
        #expect(document.algorithm == .sha256)
        #expect(document.data.map(\.key) == ["aa.toml", "policy.rego"])
        #expect(document["policy.rego"]?.hasPrefix("package agent_policy\n") == true)
        #expect(document.digest == BindingHash.sha256.digest(Array(text.utf8)))
    }

    @Test func fitsTheDigestToEachTEEField() throws {
        let document = try InitDataDocument(data: [])
        #expect(document.field(length: 32) == Array(document.digest.prefix(32)))
        #expect(document.field(length: 48) == document.digest)
        #expect(document.field(length: 64) == document.digest + [UInt8](repeating: 0, count: 16))
    }

    static let refused: [(text: String, error: InitDataError)] = [
        ("algorithm = \"sha384\"\n", .missing("version")),
        ("version = \"0.1.0\"\n", .missing("algorithm")),
        ("version = \"0.2.0\"\nalgorithm = \"sha384\"\n", .unsupportedVersion("0.2.0")),
        ("version = \"0.1.0\"\nalgorithm = \"md5\"\n", .unsupportedAlgorithm("md5")),
        ("version = \"0.1.0\"\nalgorithm = \"sha384\"\nextra = \"x\"\n", .unknownKey("extra")),
        ("version = \"0.1.0\"\nalgorithm = \"sha384\"\n[other]\n", .unknownTable("other")),
        ("version = \"0.1.0\"\nalgorithm = \"sha384\"\nalgorithm = \"sha256\"\n", .notTOML(TOMLError(line: 3, "the key algorithm appears twice"))),
    ]

    @Test(arguments: 0..<refused.count)
    func refusesWhatItWouldNotHonour(_ number: Int) {
        #expect(throws: Self.refused[number].error) { try InitDataDocument(parsing: Array(Self.refused[number].text.utf8)) }
    }

    @Test func refusesAnOversizedDocumentBeforeParsingIt() {
        let bytes = [UInt8](repeating: UInt8(ascii: "#"), count: InitDataDocument.maxSize + 1)
        #expect(throws: InitDataError.tooLarge(InitDataDocument.maxSize + 1)) { try InitDataDocument(parsing: bytes) }
    }

    @Test func refusesAKeyWrittenTwice() {
        #expect(throws: InitDataError.duplicateKey("a")) { try InitDataDocument(data: [("a", "1"), ("a", "2")]) }
    }
}
