@testable import CofferKBS
import CofferCore
import CofferJSON
import CofferKBSProtocol
import CofferTestSupport
import Crypto
import Foundation
import Synchronization
import Testing

/// Two real `coffer kbs serve` replicas on one real PostgreSQL (decision 0036), each with its own
/// KBS directory, sharing only the database and the master key file, as replicas behind a load
/// balancer would. Every handshake crosses replicas (auth at one, attest at the other).
@Suite(.serialized) struct KBSReplicaTests {
    struct Replicas {
        let database: PostgresServer
        let url: String
        let masterKey: String
        let directory: TemporaryDirectory
        let admin: P256.Signing.PrivateKey
        let a: KBSServerProcess
        let b: KBSServerProcess
    }

    /// The database, then both replicas started at once (they race to migrate the empty
    /// database: one creates the schema and the signing key, the other opens them).
    static func start() async throws -> Replicas {
        let database = try await PostgresServer.start()
        let url = try database.createDatabase("kbs")
        let directory = try TemporaryDirectory("coffer-kbs-replicas")
        let masterKey = try directory.write("master.hex", Hex.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }), mode: 0o600)
        let admin = P256.Signing.PrivateKey(), launcher = Curve25519.Signing.PrivateKey()
        let arguments = ["--database", url, "--master-key", masterKey]
        async let first = onItsOwnThread { try KBSServerProcess(dev: true, tls: false, launcherKey: launcher, adminKey: admin, arguments: arguments) }
        async let second = onItsOwnThread { try KBSServerProcess(dev: true, tls: false, launcherKey: launcher, adminKey: admin, arguments: arguments) }
        let (a, b) = try await (first, second)
        return Replicas(database: database, url: url, masterKey: masterKey, directory: directory, admin: admin, a: a, b: b)
    }

    static func auth(_ server: KBSServerProcess) async throws -> (session: String, challenge: KBSChallenge) {
        let reply = try await server.client.send("POST", "/kbs/v0/auth", body: JSONEncoder().encode(KBSRequest(tee: "sample")))
        guard reply.status == 200, let session = KBSClient.sessionID(reply) else { throw KBSClientError.reply("auth", reply) }
        return (session, try JSONDecoder().decode(KBSChallenge.self, from: reply.body))
    }

    static func attestation(_ server: KBSServerProcess, _ challenge: KBSChallenge, _ key: TEEKeyPair) throws -> Data {
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: key.publicKey)
        return try JSONEncoder().encode(KBSAttestation(runtimeData: runtime, teeEvidence: try KBSEndToEndTests.evidence(server)(runtime, .sha384)))
    }

    static func cookie(_ session: String) -> [String: String] { ["Cookie": "\(KBSProtocol.sessionCookie)=\(session)"] }

    /// One nonce, presented at both replicas at the same instant, many times over: exactly one
    /// attestation succeeds each time, the other is refused as a replay. A token issued by one
    /// replica is accepted by the other, and a policy change through one is what the other
    /// applies to its next request.
    @Test func aNonceIsRedeemedOnceWhenBothReplicasRaceForIt() async throws {
        let r = try await Self.start()
        try await KBSEndToEndTests.configure(r.a)
        var token = ""
        for round in 0..<40 {
            let issuer = round % 2 == 0 ? r.a : r.b
            let (session, challenge) = try await Self.auth(issuer)
            let body = try Self.attestation(issuer, challenge, TEEKeyPair.ec())
            async let atA = r.a.client.send("POST", "/kbs/v0/attest", body: body, headers: Self.cookie(session))
            async let atB = r.b.client.send("POST", "/kbs/v0/attest", body: body, headers: Self.cookie(session))
            let replies = [try await atA, try await atB]
            let won = replies.filter { $0.status == 200 }
            #expect(won.count == 1, "round \(round): \(won.count) attestations succeeded")
            let lost = replies.filter { $0.status != 200 }
            #expect(lost.count == 1 && lost.allSatisfy { $0.status == 401 && $0.error?.detail.contains("already used") == true },
                    "round \(round): \(lost.map { "\($0.status) \($0.error?.detail ?? "")" })")
            if let reply = won.first { token = try AttestationTokenResponse(json: try JSONValue.parse(Array(reply.body))).token }
        }
        // No session has two successful attestations in the shared audit log.
        #expect(try r.database.sql("kbs", "SELECT session FROM audit WHERE action = 'attest' AND allowed GROUP BY session HAVING count(*) > 1") == "")
        #expect(try r.database.sql("kbs", "SELECT count(*) FROM audit WHERE action = 'attest' AND allowed") == "40\n")

        // The last token, from whichever replica won, works at both; so does the signing key.
        let bearer = ["Authorization": "Bearer \(token)"]
        #expect(try await r.a.client.send("GET", "/kbs/v0/resource/default/key/disk", headers: bearer).status == 200)
        #expect(try await r.b.client.send("GET", "/kbs/v0/resource/default/key/disk", headers: bearer).status == 200)
        let keyA = try await r.a.client.send("GET", "/kbs/v0/signing-key").body, keyB = try await r.b.client.send("GET", "/kbs/v0/signing-key").body
        #expect(keyA == keyB && !keyA.isEmpty)
        // A resource policy that releases nothing, set through B, holds at A's next request; and back.
        #expect(try await r.b.admin("POST", "/kbs/v0/resource-policy", JSONEncoder().encode(ResourcePolicy(rules: []))).status == 200)
        #expect(try await r.a.client.send("GET", "/kbs/v0/resource/default/key/disk", headers: bearer).status != 200)
        try await KBSEndToEndTests.configure(r.a)
        #expect(try await r.b.client.send("GET", "/kbs/v0/resource/default/key/disk", headers: bearer).status == 200)
    }

    /// Load across both replicas (handshakes crossing them, and admin writes), then one replica
    /// is killed with SIGKILL mid-run. The only failures are requests that were in flight to the
    /// killed replica; the survivor carries on with handshakes and writes; every write
    /// acknowledged by either replica is in the database afterwards; the audit log is shared.
    @Test func theSurvivorCarriesOnAfterOneReplicaIsKilled() async throws {
        let r = try await Self.start()
        try await KBSEndToEndTests.configure(r.a)
        let load = ReplicaRun(a: r.a, b: r.b)
        let handshakers = (0..<3).map { worker in
            Task {
                var n = worker
                while !load.done {
                    n += 1
                    let key = TEEKeyPair.ec()
                    let startedAfterKill = load.killed
                    guard let auth = await load.send(n, "POST", "/kbs/v0/auth", try? JSONEncoder().encode(KBSRequest(tee: "sample"))),
                          let session = KBSClient.sessionID(auth.reply),
                          let challenge = try? JSONDecoder().decode(KBSChallenge.self, from: auth.reply.body),
                          let body = try? Self.attestation(r.a, challenge, key),
                          let attest = await load.send(n + 1, "POST", "/kbs/v0/attest", body, headers: Self.cookie(session)),
                          let resource = await load.send(n, "GET", "/kbs/v0/resource/default/key/disk", nil, headers: Self.cookie(session))
                    else { continue }
                    guard let jwe = try? JWEResponse(json: try JSONValue.parse(Array(resource.reply.body))),
                          (try? key.decrypt(jwe)) == Array("the-disk-key".utf8) else {
                        load.fail("session \(session): the resource did not decrypt to the stored value")
                        continue
                    }
                    load.handshake(session: session, attestedAt: attest.replica, afterKill: startedAfterKill)
                }
            }
        }
        let writers = (0..<2).map { writer in
            Task {
                var i = 0
                while !load.done {
                    i += 1
                    let path = "replicas/w\(writer)/r\(i)", value = Data("value-\(writer)-\(i)".utf8)
                    let startedAfterKill = load.killed
                    guard let headers = try? r.a.adminHeaders(),
                          await load.send(writer + i, "POST", "/kbs/v0/resource/\(path)", value, headers: headers) != nil else { continue }
                    load.acknowledge(path, value, afterKill: startedAfterKill)
                }
            }
        }
        // Bounded waits (never a timing assertion): the test fails on the counts if they time out.
        let before = await load.wait(for: 180) { $0.handshakes >= 30 && $0.writes.count >= 30 }
        #expect(before.handshakes >= 30 && before.writes.count >= 30, "before the kill: \(before.handshakes) handshakes, \(before.writes.count) writes")
        load.markKilled()
        r.a.stop(kill: true)
        let after = await load.wait(for: 180) { $0.handshakesAfterKill >= 20 && $0.writesAfterKill >= 20 }
        load.finish()
        for task in handshakers + writers { await task.value }
        let final = load.snapshot()
        #expect(after.handshakesAfterKill >= 20 && after.writesAfterKill >= 20,
                "after the kill the survivor did \(after.handshakesAfterKill) handshakes, \(after.writesAfterKill) writes")
        #expect(final.failures.isEmpty, "failures other than requests in flight to the killed replica: \(final.failures.prefix(5))")

        // Every acknowledged write is there, read straight from the database with the master key.
        let store = try await PostgresStore.open(try PostgresDatabaseURL(r.url),
                                                 masterKey: try MasterKeySource.file(r.masterKey).load(home: KBSHome(directory: r.directory.path + "/kbs"), databaseExists: true),
                                                 deadline: KBSPostgresStoreTests.deadline)
        for (path, value) in final.writes {
            #expect(try await store.resource(path) == Array(value), "\(path) acknowledged but lost")
        }
        await store.close()
        // No session attested twice; and `coffer kbs admin audit` at the survivor shows a session
        // the killed replica attested (one audit log).
        #expect(try r.database.sql("kbs", "SELECT session FROM audit WHERE action = 'attest' AND allowed GROUP BY session HAVING count(*) > 1") == "")
        let atA = try #require(final.attestedAtA.first, "no handshake was attested at the killed replica")
        let adminKey = try r.directory.write("admin.pem", r.admin.pemRepresentation, mode: 0o600)
        let audit = try run(Repository.executable("coffer"), ["kbs", "admin", "audit", "--url", r.b.url, "--key", adminKey, "--session", atA])
        #expect(audit.status == 0 && audit.stdout.contains("\"attest\"") && audit.stdout.contains("\"allowed\""), "\(audit.stderr)")
        // `coffer kbs explain --database` reads the same log from the database, on a host with no broker.
        let explain = try run(Repository.executable("coffer"), ["kbs", "explain", atA, "--home", r.directory.path + "/explain",
                                                                "--database", r.url, "--master-key", r.masterKey])
        #expect(explain.status == 0 && explain.stdout.contains("session \(atA)") && explain.stdout.contains("resource default/key/disk"),
                "\(explain.stdout)\(explain.stderr)")
    }
}

/// The load generator's bookkeeping: routes requests like a load balancer (alternating, and only
/// to the survivor once replica A is killed), and sorts failures into the one kind allowed — a
/// request to A that started before the kill and got no reply — and everything else.
final class ReplicaRun: Sendable {
    struct State {
        var killed = false, done = false
        var handshakes = 0, handshakesAfterKill = 0
        var writes: [(String, Data)] = [], writesAfterKill = 0
        var attestedAtA: [String] = []
        var inFlightToKilled = 0
        var failures: [String] = []
    }
    private let state = Mutex(State())
    let a: KBSServerProcess, b: KBSServerProcess

    init(a: KBSServerProcess, b: KBSServerProcess) { self.a = a; self.b = b }

    var killed: Bool { state.withLock { $0.killed } }
    var done: Bool { state.withLock { $0.done } }
    func markKilled() { state.withLock { $0.killed = true } }
    func finish() { state.withLock { $0.done = true } }
    func snapshot() -> State { state.withLock { $0 } }
    func fail(_ what: String) { state.withLock { $0.failures.append(what) } }

    /// One request, at A for even `n` and B for odd, or at B once A is killed; nil if it failed.
    func send(_ n: Int, _ method: String, _ path: String, _ body: Data?, headers: [String: String] = [:]) async -> (reply: KBSClient.Reply, replica: String)? {
        let toA = n % 2 == 0 && !killed
        let server = toA ? a : b
        do {
            let reply = try await server.client.send(method, path, body: body, headers: headers)
            if reply.status == 200 { return (reply, toA ? "A" : "B") }
            fail("\(method) \(path) at \(toA ? "A" : "B"): HTTP \(reply.status) \(reply.error?.detail ?? "")")
        } catch {
            // Picked before the kill was marked, so possibly in flight when A died.
            if toA && killed { state.withLock { $0.inFlightToKilled += 1 } } else { fail("\(method) \(path) at \(toA ? "A" : "B"): \(error)") }
        }
        return nil
    }

    func handshake(session: String, attestedAt replica: String, afterKill: Bool) {
        state.withLock {
            $0.handshakes += 1
            if afterKill { $0.handshakesAfterKill += 1 }
            if replica == "A" { $0.attestedAtA.append(session) }
        }
    }

    func acknowledge(_ path: String, _ value: Data, afterKill: Bool) {
        state.withLock {
            $0.writes.append((path, value))
            if afterKill { $0.writesAfterKill += 1 }
        }
    }

    /// Waits until `condition` holds or `seconds` pass; returns the state then.
    func wait(for seconds: Double, _ condition: (State) -> Bool) async -> State {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !state.withLock({ condition($0) }) {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return snapshot()
    }
}
