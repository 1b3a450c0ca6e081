import CofferKBSProtocol
@testable import CofferKBS
import CofferTestSupport
import CofferVerifier
import CofferCore
import Crypto
import Foundation
import SQLiteNIO
import Testing

@Suite struct SQLiteStoreTests {
    @Test func resourcesAreSealedAtRestAndBoundToTheirPath() async throws {
        let dir = try TemporaryDirectory("kbs-store")
        let home = KBSHome(directory: dir.path + "/kbs")
        try home.prepare()
        let store = try await SQLiteStore.open(path: home.databasePath, masterKey: try home.masterKey())
        let secret = "plaintext-secret-value-\(UUID().uuidString)"
        try await store.putResource("a/b/c", Array(secret.utf8))
        #expect(try await store.resource("a/b/c") == Array(secret.utf8))
        #expect(try await store.resource("a/b/none") == nil)
        // The secret is nowhere in the database files.
        for file in ["kbs.sqlite", "kbs.sqlite-wal"] {
            let bytes = FileManager.default.contents(atPath: home.directory + "/" + file) ?? Data()
            #expect(bytes.range(of: Data(secret.utf8)) == nil)
        }
        // A sealed row moved to another path does not open.
        _ = try await store.connection.query("INSERT INTO resources (path, sealed, updated) SELECT 'x/y/z', sealed, 0 FROM resources WHERE path = 'a/b/c'")
        await #expect(throws: (any Error).self) { try await store.resource("x/y/z") }
        // Reads are cached (sealed); a write or delete is seen by the next read.
        try await store.putResource("a/b/c", Array("replaced".utf8))
        #expect(try await store.resource("a/b/c") == Array("replaced".utf8))
        #expect(try await store.deleteResource("a/b/c"))
        #expect(try await store.resource("a/b/c") == nil)
        #expect(try await !store.deleteResource("a/b/c"))
        #expect(try await store.integrityCheck() == "ok")
        let mode = try FileManager.default.attributesOfItem(atPath: home.directory + "/master.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        await store.close()
    }

    @Test func aMissingMasterKeyBesideAnExistingDatabaseIsRefused() async throws {
        let dir = try TemporaryDirectory("kbs-store")
        let home = KBSHome(directory: dir.path + "/kbs")
        try home.prepare()
        let store = try await SQLiteStore.open(path: home.databasePath, masterKey: try home.masterKey())
        try await store.putResource("a/b/c", [1])
        await store.close()
        try FileManager.default.removeItem(atPath: home.masterKeyPath)
        #expect(throws: KBSHomeError.self) { try home.masterKey() }
        #expect(!FileManager.default.fileExists(atPath: home.masterKeyPath))
    }

    @Test func policiesAndAuditSurviveReopening() async throws {
        let dir = try TemporaryDirectory("kbs-store")
        let home = KBSHome(directory: dir.path + "/kbs")
        try home.prepare()
        let policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": ["aa"]])])
        do {
            let store = try await SQLiteStore.open(path: home.databasePath, masterKey: try home.masterKey())
            try await store.setAttestationPolicy(policy)
            try await store.setResourcePolicy(ResourcePolicy(rules: [ResourceRule(resources: ["*"], anyWorkload: true)]))
            for i in 0..<3 {
                try await store.record(Decision(time: Date(timeIntervalSince1970: Double(i)), session: i == 1 ? "s1" : "s0", tee: "tdx",
                    claimsDigest: "d", action: "attest", allowed: i == 2, reason: "r\(i)",
                    denial: i == 1 ? Denial(claim: "mr_td", expected: "aa", actual: "bb", reason: "x") : nil))
            }
            await store.close()
        }
        let store = try await SQLiteStore.open(path: home.databasePath, masterKey: try home.masterKey())
        #expect(try await store.attestationPolicy() == policy)
        #expect(try await store.resourcePolicy().rules.count == 1)
        let all = try await store.decisions(session: nil, limit: 10)
        #expect(all.map(\.reason) == ["r2", "r1", "r0"])
        let s1 = try await store.decisions(session: "s1", limit: 10)
        #expect(s1.count == 1 && s1[0].denial?.actual == "bb")
        let mode = try await store.connection.query("PRAGMA journal_mode").first?.column("journal_mode")?.string
        #expect(mode == "wal")
        await store.close()
    }

    /// A store made before decision 0030 (audit without `image_id`) gains the column on open: its
    /// old rows read back without an image, new rows keep theirs.
    @Test func anOlderAuditTableGainsTheImageColumn() async throws {
        let dir = try TemporaryDirectory("kbs-store")
        let home = KBSHome(directory: dir.path + "/kbs")
        try home.prepare()
        let masterKey = try home.masterKey()
        let old = try await SQLiteConnection.open(storage: .file(path: home.databasePath))
        _ = try await old.query("""
            CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, session TEXT NOT NULL,
              tee TEXT NOT NULL, claims_digest TEXT NOT NULL, action TEXT NOT NULL, allowed INTEGER NOT NULL,
              reason TEXT NOT NULL, denial TEXT)
            """)
        _ = try await old.query("INSERT INTO audit (time, session, tee, claims_digest, action, allowed, reason) VALUES (1, 's', 'sample', 'd', 'attest', 1, 'old')")
        try await old.close()
        let image = "sha256:" + String(repeating: "ab", count: 32)
        for _ in 0..<2 {  // the second open finds the column and adds nothing
            let store = try await SQLiteStore.open(path: home.databasePath, masterKey: masterKey)
            if try await store.decisions(session: "s", limit: 10).count == 1 {
                try await store.record(Decision(time: Date(timeIntervalSince1970: 2), session: "s", tee: "sample", claimsDigest: "d",
                                                action: "attest", allowed: true, reason: "new", imageID: image))
            }
            let rows = try await store.decisions(session: "s", limit: 10)
            #expect(rows.map(\.reason) == ["new", "old"] && rows.map(\.imageID) == [image, nil])
            await store.close()
        }
    }

    @Test func concurrentAuditRecordsAreAllDurableWhenTheirCallsReturn() async throws {
        let dir = try TemporaryDirectory("kbs-store")
        let home = KBSHome(directory: dir.path + "/kbs")
        try home.prepare()
        let store = try await SQLiteStore.open(path: home.databasePath, masterKey: try home.masterKey())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<700 {
                group.addTask {
                    try await store.record(Decision(time: Date(), session: "s\(i)", tee: "sample", claimsDigest: "", action: "attest",
                                                    allowed: i % 2 == 0, reason: "r", denial: i % 3 == 0 ? Denial(claim: "c", expected: "e", reason: "x") : nil))
                }
            }
            try await group.waitForAll()
        }
        await store.close()
        let reopened = try await SQLiteStore.open(path: home.databasePath, masterKey: try home.masterKey())
        let all = try await reopened.decisions(session: nil, limit: 10_000)
        #expect(Set(all.map(\.session)) == Set((0..<700).map { "s\($0)" }))
        #expect(all.filter { $0.denial != nil }.count == 234)
        await reopened.close()
    }
}

/// The broker fails closed on a store it cannot write: no audit row, no secret.
@Suite struct FailClosedTests {
    @Test func aReleaseThatCannotBeAuditedDoesNotHappen() async throws {
        let dir = try TemporaryDirectory("kbs-store")
        let home = KBSHome(directory: dir.path + "/kbs")
        try home.prepare()
        let store = try await SQLiteStore.open(path: home.databasePath, masterKey: try home.masterKey())
        let launcher = Curve25519.Signing.PrivateKey()
        let measurement = [UInt8](repeating: 7, count: 48)
        try await store.setAttestationPolicy(AttestationPolicy(tees: ["sample": TEEAttestationPolicy(referenceValues: ["measurement": [Hex.encode(measurement)]])]))
        try await store.setResourcePolicy(ResourcePolicy(rules: [ResourceRule(resources: ["*"], anyWorkload: true)]))
        try await store.putResource("a/b/c", Array("secret".utf8))
        let kbs = KeyBroker(configuration: KBSConfiguration(devMode: true, trust: TrustAnchors(sampleSigners: [launcher.publicKey])),
                            store: store, signingKey: P256.Signing.PrivateKey())
        let now = Date()
        let (session, challenge) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        let key = TEEKeyPair.ec()
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: key.publicKey)
        let evidence = try SampleAttester(launcherKey: launcher, measurement: measurement).evidence(runtimeData: runtime, hash: .sha384)
        _ = try await kbs.attest(session: session, KBSAttestation(runtimeData: runtime, teeEvidence: evidence), now: now)
        // Make the audit table unwritable, as a full or read-only disk would.
        _ = try await store.connection.query("CREATE TRIGGER refuse BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        let failure = await #expect(throws: KBSFailure.self) { try await kbs.resource(try ResourceURI(path: "a/b/c"), credential: .session(session), now: now) }
        #expect(failure?.status == 503)
        await store.close()
    }
}
