@testable import CofferKBS
import CofferCore
import CofferKBSProtocol
import CofferTestSupport
import CofferVerifier
import Crypto
import Foundation
import SQLiteNIO
import Synchronization
import Testing

/// `PostgresStore` against a real PostgreSQL server (started per test), and the schema versions
/// both stores share (decision 0036).
@Suite struct KBSPostgresStoreTests {
    /// Each statement's bound in these tests. The broker's 15 s is wall time, and with the whole
    /// suite running on two cores, other suites' blocking tests can hold Swift's cooperative pool
    /// long enough that a statement the server answered at once resumes after it (seen in CI).
    /// The test of the bound itself sets the broker's own.
    static let deadline: Duration = .seconds(300)

    @Test func anEmptyDatabaseIsMigratedAndSealsSecretsAtRest() async throws {
        let server = try await PostgresServer.start()
        let url = try PostgresDatabaseURL(try server.createDatabase("kbs"))
        let masterKey = SymmetricKey(size: .bits256)
        let store = try await PostgresStore.open(url, masterKey: masterKey, deadline: Self.deadline)
        #expect(try await store.schemaVersion() == KBSSchema.version)
        let tables = try server.sql("kbs", "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        #expect(tables.split(separator: "\n") == ["audit", "broker_keys", "policies", "resources", "schema_version", "sessions"])

        let secret = "plaintext-secret-\(UUID().uuidString)"
        try await store.putResource("a/b/c", Array(secret.utf8))
        #expect(try await store.resource("a/b/c") == Array(secret.utf8))
        #expect(try await store.resource("a/b/none") == nil)
        // Neither the secret nor the signing key is in the database in the clear.
        let dump = try server.sql("kbs", "SELECT encode(sealed, 'hex') FROM resources UNION ALL SELECT encode(sealed, 'hex') FROM broker_keys")
        #expect(!dump.contains(Hex.encode(Array(secret.utf8))))
        #expect(!dump.contains(Hex.encode(Array(store.signingKey.rawRepresentation))))
        // A sealed row moved to another path does not open.
        try server.sql("kbs", "INSERT INTO resources (path, sealed, updated) SELECT 'x/y/z', sealed, 0 FROM resources WHERE path = 'a/b/c'")
        await #expect(throws: (any Error).self) { try await store.resource("x/y/z") }
        try await store.putResource("a/b/c", Array("replaced".utf8))
        #expect(try await store.resource("a/b/c") == Array("replaced".utf8))
        #expect(try await store.deleteResource("a/b/c"))
        #expect(try await !store.deleteResource("a/b/c"))

        let policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": ["aa"]])])
        try await store.setAttestationPolicy(policy)
        try await store.setResourcePolicy(ResourcePolicy(rules: [ResourceRule(resources: ["*"], anyWorkload: true)]))
        for i in 0..<3 {
            try await store.record(Decision(time: Date(timeIntervalSince1970: Double(i)), session: i == 1 ? "s1" : "s0", tee: "tdx", claimsDigest: "d",
                                            action: "attest", allowed: i == 2, reason: "r\(i)",
                                            denial: i == 1 ? Denial(claim: "mr_td", expected: "aa", actual: "bb", reason: "x") : nil,
                                            imageID: i == 2 ? "sha256:" + String(repeating: "a", count: 64) : nil))
        }

        // A second store (another replica) sees all of it at once, with the same signing key.
        let replica = try await PostgresStore.open(url, masterKey: masterKey, deadline: Self.deadline)
        #expect(replica.signingKey.rawRepresentation == store.signingKey.rawRepresentation)
        #expect(try await replica.attestationPolicy() == policy)
        #expect(try await replica.resourcePolicy().rules.count == 1)
        #expect(try await replica.decisions(session: nil, limit: 10).map(\.reason) == ["r2", "r1", "r0"])
        let s1 = try await replica.decisions(session: "s1", limit: 10)
        #expect(s1.count == 1 && s1[0].denial?.actual == "bb" && s1[0].imageID == nil)
        #expect(try await replica.decisions(session: "s0", limit: 1).first?.imageID?.hasPrefix("sha256:") == true)
        // A change through the replica is what the first store reads next (no cache).
        try await replica.setAttestationPolicy(AttestationPolicy())
        #expect(try await store.attestationPolicy() == AttestationPolicy())

        // Another master key does not open this database: refused, naming why.
        let error = await #expect(throws: KBSStoreError.self) { try await PostgresStore.open(url, masterKey: SymmetricKey(size: .bits256), deadline: Self.deadline) }
        #expect(error?.description.contains("master key does not open") == true)
        await replica.close()
        await store.close()
    }

    @Test func aDatabaseMarkedNewerIsRefusedNamingBothVersions() async throws {
        let server = try await PostgresServer.start()
        let text = try server.createDatabase("kbs")
        let url = try PostgresDatabaseURL(text)
        let masterKey = SymmetricKey(size: .bits256)
        await (try await PostgresStore.open(url, masterKey: masterKey, deadline: Self.deadline)).close()
        try server.sql("kbs", "UPDATE schema_version SET version = \(KBSSchema.version + 1)")
        let error = await #expect(throws: KBSSchemaError.self) { try await PostgresStore.open(url, masterKey: masterKey, deadline: Self.deadline) }
        #expect(error == .newer(database: url.description, found: KBSSchema.version + 1, understood: KBSSchema.version))
        #expect(error?.description.contains("schema version \(KBSSchema.version + 1)") == true)
        #expect(error?.description.contains("version \(KBSSchema.version) that this Coffer understands") == true)
        // `coffer kbs serve --database` says the same and exits; nothing was changed.
        let home = try TemporaryDirectory("coffer-kbs-pg")
        let key = try home.write("master.hex", Hex.encode(masterKey.withUnsafeBytes { Array($0) }), mode: 0o600)
        let serve = try run(Repository.executable("coffer"), ["kbs", "serve", "--home", home.path, "--listen", "127.0.0.1:0", "--insecure-http",
                                                              "--database", text, "--master-key", key])
        #expect(serve.status != 0 && serve.stderr.contains("schema version \(KBSSchema.version + 1), newer than version \(KBSSchema.version)"), "\(serve.stderr)")
        #expect(try server.sql("kbs", "SELECT version FROM schema_version") == "\(KBSSchema.version + 1)\n")
    }

    /// One nonce, redeemed through two stores (as two replicas would) at the same time, many
    /// times: exactly one redemption each time.
    @Test func aNonceIsRedeemedOnceAcrossTwoStoresRacing() async throws {
        let server = try await PostgresServer.start()
        let url = try PostgresDatabaseURL(try server.createDatabase("kbs"))
        let masterKey = SymmetricKey(size: .bits256)
        let a = try await PostgresStore.open(url, masterKey: masterKey, deadline: Self.deadline)
        let b = try await PostgresStore.open(url, masterKey: masterKey, deadline: Self.deadline)
        let now = Date()
        for round in 0..<100 {
            let id = "session-\(round)"
            let session = Session(id: id, tee: .sample, hash: .sha384, expiry: now.addingTimeInterval(300),
                                  state: .challenged(nonce: "nonce-\(round)", nonceExpiry: now.addingTimeInterval(60)), source: "192.0.2.1")
            #expect(try await a.insert(session, now: now))
            async let first = a.consumeNonce(id, now: now)
            async let second = b.consumeNonce(id, now: now)
            let outcomes = [try await first, try await second]
            let won = outcomes.compactMap { try? $0.get() }
            #expect(won.count == 1, "round \(round): \(won.count) redemptions")
            #expect(won.first?.1 == "nonce-\(round)")
            let lost = outcomes.compactMap { if case .failure(let f) = $0 { f } else { nil } }
            #expect(lost.count == 1 && lost[0].detail.contains("already used"))
        }
        // The session's attested state is shared (a cookie from one replica works at the other).
        let claims = Claims(tee: .sample, hardwareBacked: false, tcbStatus: nil, advisoryIDs: [], measurements: ["measurement": "ab"], reportData: "00")
        try await a.update("session-0", state: .attested(claims: claims, claimsDigest: "d0", teePubkey: TEEKeyPair.ec().publicKey))
        guard case .attested(let read, let digest, _)? = try await b.get("session-0", now: now)?.state else {
            Issue.record("session-0 is not attested at the other store")
            return
        }
        #expect(read.measurements == ["measurement": "ab"] && digest == "d0")
        #expect(try await b.get("session-0", now: now.addingTimeInterval(301)) == nil)
        await a.close()
        await b.close()
    }

    /// The per-source bound holds in the shared table: a flood from one address keeps at most
    /// its bound of unauthenticated sessions, and never evicts another address's.
    @Test func unauthenticatedSessionsAreBoundedPerSource() async throws {
        let server = try await PostgresServer.start()
        let url = try PostgresDatabaseURL(try server.createDatabase("kbs"))
        let store = try await PostgresStore.open(url, masterKey: SymmetricKey(size: .bits256),
                                                 limits: SessionLimits(total: 1000, unauthenticated: 500, unauthenticatedPerSource: 10), deadline: Self.deadline)
        let now = Date()
        func session(_ id: String, _ source: String) -> Session {
            Session(id: id, tee: .sample, hash: .sha384, expiry: now.addingTimeInterval(300),
                    state: .challenged(nonce: id, nonceExpiry: now.addingTimeInterval(60)), source: source)
        }
        #expect(try await store.insert(session("honest", "192.0.2.1"), now: now))
        for i in 0..<50 { #expect(try await store.insert(session("flood-\(i)", "192.0.2.66"), now: now.addingTimeInterval(Double(i) / 1000))) }
        #expect(try server.sql("kbs", "SELECT count(*) FROM sessions WHERE source = '192.0.2.66'") == "10\n")
        #expect(try await store.get("flood-49", now: now) != nil)
        #expect(try await store.get("flood-0", now: now) == nil)
        #expect(try await store.consumeNonce("honest", now: now).get().1 == "honest")
        await store.close()
    }

    /// Every wait on the database is bounded: a database that does not exist is refused in the
    /// server's words, a server that is not there is reported, and a server that goes away under
    /// a running store makes its next operation fail with an error, never hang.
    @Test func anUnreachableOrMissingDatabaseFailsWithinBoundsNamingWhy() async throws {
        let server = try await PostgresServer.start()
        let missing = await #expect(throws: KBSStoreError.self) {
            try await PostgresStore.open(try PostgresDatabaseURL(server.url("nope")), masterKey: SymmetricKey(size: .bits256), deadline: Self.deadline)
        }
        #expect(missing?.description.contains(#"database "nope" does not exist"#) == true, "\(missing.map(String.init(describing:)) ?? "")")
        let nobody = try TemporaryDirectory("coffer-pg-none")
        let absent = await #expect(throws: KBSStoreError.self) {
            try await PostgresStore.open(try PostgresDatabaseURL("postgres://coffer@/kbs?host=\(nobody.path)"), masterKey: SymmetricKey(size: .bits256), deadline: Self.deadline)
        }
        #expect(absent?.description.contains("cannot open the broker database") == true, "\(absent.map(String.init(describing:)) ?? "")")

        let url = try PostgresDatabaseURL(try server.createDatabase("kbs"))
        let store = try await PostgresStore.open(url, masterKey: SymmetricKey(size: .bits256), deadline: Self.deadline)
        try await store.putResource("a/b/c", [1])
        // The broker's own bound from here on: with the server gone, PostgresNIO would wait forever.
        store.deadline = PostgresStore.defaultDeadline
        await server.stopped()
        await #expect(throws: (any Error).self) { try await store.resource("a/b/c") }
        await #expect(throws: (any Error).self) { try await store.putResource("a/b/c", [2]) }
        await store.close()
    }

    /// SQLite keeps its path: a store made before versioning is adopted (its rows kept, the
    /// image_id column added), and a file marked newer is refused.
    @Test func sqliteStoresAreVersionedTheSameWay() async throws {
        let dir = try TemporaryDirectory("kbs-store")
        let path = dir.path + "/kbs.sqlite"
        let legacy = try await SQLiteConnection.open(storage: .file(path: path))
        for ddl in [
            "CREATE TABLE resources (path TEXT PRIMARY KEY, sealed BLOB NOT NULL, updated REAL NOT NULL)",
            "CREATE TABLE policies (name TEXT PRIMARY KEY, json TEXT NOT NULL)",
            """
            CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, session TEXT NOT NULL, tee TEXT NOT NULL,
              claims_digest TEXT NOT NULL, action TEXT NOT NULL, allowed INTEGER NOT NULL, reason TEXT NOT NULL, denial TEXT)
            """,
            "INSERT INTO audit (time, session, tee, claims_digest, action, allowed, reason) VALUES (1, 'old', 'tdx', '', 'attest', 0, 'before')",
        ] { _ = try await legacy.query(ddl) }
        try await legacy.close()
        let key = SymmetricKey(size: .bits256)
        let store = try await SQLiteStore.open(path: path, masterKey: key)
        #expect(try await store.schemaVersion() == KBSSchema.version)
        #expect(try await store.decisions(session: "old", limit: 1).first?.reason == "before")
        try await store.record(Decision(time: Date(), session: "new", tee: "sample", claimsDigest: "", action: "attest", allowed: true,
                                        reason: "allowed", imageID: "sha256:" + String(repeating: "b", count: 64)))
        #expect(try await store.decisions(session: "new", limit: 1).first?.imageID?.hasPrefix("sha256:") == true)
        _ = try await store.connection.query("UPDATE schema_version SET version = \(KBSSchema.version + 1)")
        await store.close()
        let error = await #expect(throws: KBSSchemaError.self) { try await SQLiteStore.open(path: path, masterKey: key) }
        #expect(error == .newer(database: path, found: KBSSchema.version + 1, understood: KBSSchema.version))
    }
}
