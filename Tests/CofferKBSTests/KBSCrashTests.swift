@testable import CofferKBS
import CofferTestSupport
import Crypto
import Foundation
import Synchronization
import Testing

/// `kill -9` in the middle of a stream of admin writes: every write the server acknowledged is in
/// the database afterwards, intact, and the database opens and serves again.
@Suite struct KBSCrashTests {
    @Test func everyAcknowledgedWriteSurvivesKill9() async throws {
        let home = try TemporaryDirectory("coffer-kbs-crash")
        let admin = P256.Signing.PrivateKey()
        let server = try KBSServerProcess(dev: true, home: home, adminKey: admin)
        let client = server.client
        let acknowledged = AcknowledgedWrites()
        // Writers keep going while the server is killed; a write counts only once its 200 arrived.
        // A write that fails before the kill (a slow reply on a loaded machine) is retried under a
        // new path, not counted; after the kill every writer stops at its next failure.
        let writers = (0..<4).map { writer in
            Task {
                defer { acknowledged.writerStopped() }
                var i = 0
                while true {
                    let path = "crash/w\(writer)/r\(i)"
                    let value = Data("value-\(writer)-\(i)-\(String(repeating: "x", count: i % 97))".utf8)
                    i += 1
                    // A fresh admin token per write: one made up front lapses (120 s) when a loaded
                    // machine makes the writes slow, and every write after it would fail as 401.
                    guard let headers = try? server.adminHeaders(),
                          let reply = try? await client.send("POST", "/kbs/v0/resource/\(path)", body: value, headers: headers),
                          reply.status == 200 else {
                        if acknowledged.killed { return }
                        acknowledged.failed()
                        try? await Task.sleep(nanoseconds: 20_000_000)
                        continue
                    }
                    acknowledged.add(path, value)
                }
            }
        }
        await acknowledged.waitFor(count: 60)
        acknowledged.markKilled()
        server.stop(kill: true)
        for writer in writers { await writer.value }
        let acked = acknowledged.all()
        #expect(acked.count >= 60, "\(acknowledged.failures) writes failed before the kill")

        let kbs = KBSHome(directory: home.path + "/state/kbs")
        let store = try await SQLiteStore.open(path: kbs.databasePath, masterKey: try kbs.masterKey())
        #expect(try await store.integrityCheck() == "ok")
        for (path, value) in acked {
            #expect(try await store.resource(path) == Array(value), "\(path) lost or damaged")
        }
        await store.close()

        // The server starts again on the same home and keeps serving.
        let again = try KBSServerProcess(dev: true, home: home, adminKey: admin)
        let reply = try await again.admin("POST", "/kbs/v0/resource/crash/after/restart", Data("ok".utf8))
        #expect(reply.status == 200)
    }
}

final class AcknowledgedWrites: Sendable {
    private struct State { var writes: [(String, Data)] = []; var stopped = 0; var killed = false; var failures = 0 }
    private let state = Mutex(State())

    var killed: Bool { state.withLock { $0.killed } }
    var failures: Int { state.withLock { $0.failures } }
    func markKilled() { state.withLock { $0.killed = true } }
    func failed() { state.withLock { $0.failures += 1 } }

    func add(_ path: String, _ value: Data) { state.withLock { $0.writes.append((path, value)) } }
    func writerStopped() { state.withLock { $0.stopped += 1 } }
    func all() -> [(String, Data)] { state.withLock { $0.writes } }

    /// Waits for `count` acknowledged writes, or until every writer gave up (the test then fails
    /// on the count).
    func waitFor(count: Int) async {
        while !state.withLock({ $0.writes.count >= count || $0.stopped == 4 || $0.failures > 1000 }) {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
    }
}
