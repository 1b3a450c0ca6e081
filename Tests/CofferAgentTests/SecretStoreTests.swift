@testable import CofferAgent
import CofferSys
import CofferTestSupport
import CofferWire
import Foundation
import Testing

/// The secrets directory never writes through a link or over a file, and the relay gives up on
/// a host that never answers (the broker tests cover the rest of both).
@Suite struct SecretStoreTests {
    @Test func aSecretIsNeverWrittenThroughALinkOrOverAFile() throws {
        let root = try TemporaryDirectory("coffer-secrets")
        let store = SecretsDirectory(root: root.path, mountsTmpfs: false)
        try store.prepare()
        let elsewhere = try TemporaryDirectory("coffer-elsewhere")
        #expect(symlink(elsewhere.path, root.path + "/run/secrets/app") == 0)
        let linked = try #require(throws: AgentFailure.self) { try store.place(Array("s".utf8), at: "/run/secrets/app/key", owner: (0, 0)) }
        #expect(linked.reason == .secrets && linked.message.contains("/run/secrets/app"))
        #expect(symlink(elsewhere.path + "/target", root.path + "/run/secrets/direct") == 0)
        #expect(throws: AgentFailure.self) { try store.place(Array("s".utf8), at: "/run/secrets/direct", owner: (0, 0)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)

        try store.place(Array("first".utf8), at: "/run/secrets/once", owner: (0, 0))
        let twice = try #require(throws: AgentFailure.self) { try store.place(Array("second".utf8), at: "/run/secrets/once", owner: (0, 0)) }
        #expect(twice.reason == .secrets)
        #expect(FileManager.default.contents(atPath: root.path + "/run/secrets/once") == Data("first".utf8))
    }

    /// A host that takes the request and never answers: the launch stops with reason `broker`.
    @Test func theRelayGivesUpOnAHostThatNeverAnswers() throws {
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else { throw TestFailure("socketpair") }
        defer { close(ends[0]); close(ends[1]) }
        var relay = HostRelay(port: FileDescriptor(rawValue: ends[1]), decoder: FrameDecoder(), deadlineMilliseconds: 50)
        // Sent by the host meanwhile: kept for after the workload starts.
        try FileDescriptor(rawValue: ends[0]).writeAll(try SignalProcess(.main, signal: 15).frame.encoded())
        let failure = try #require(throws: AgentFailure.self) { try relay.exchange(.post, "/kbs/v0/auth", cookie: "", body: []) }
        #expect(failure.reason == .broker && failure.message.contains("did not relay"))
        #expect(relay.deferred.map(\.kind) == [.signal])
    }
}
