@testable import CofferKBS
import CofferCore
import CofferTestSupport
import Crypto
import Foundation
import Testing
import CofferJSON

/// Decision 0019 through the real `coffer kbs serve`: policies that name no workload are refused by
/// the admin API and, stored by an older Coffer, reported at start-up and denied; explicit "any"
/// flags are warnings in the start-up log and in `coffer kbs explain`.
@Suite(.serialized) struct KBSPolicyCompletenessServerTests {
    static func stderr(_ server: KBSServerProcess) -> String {
        server.stop()
        return String(decoding: server.errorsHandle.readDataToEndOfFile(), as: UTF8.self)
    }

    @Test func theAdminAPIRefusesAPolicyNamingNoWorkload() async throws {
        let server = try KBSServerProcess(dev: true)
        let attestation = try await server.admin("POST", "/kbs/v0/attestation-policy", Data(#"{"tees":{"tdx":{}}}"#.utf8))
        #expect(attestation.status == 400 && attestation.error?.detail.contains("attestation policy refused: tees.tdx names no reference_values") == true,
                "\(String(decoding: attestation.body, as: UTF8.self))")
        let resource = try await server.admin("POST", "/kbs/v0/resource-policy", Data(#"{"rules":[{"resources":["*"],"tees":["tdx"]}]}"#.utf8))
        #expect(resource.status == 400 && resource.error?.detail.contains("resource policy refused: rules[0] names no image_ids or measurements") == true,
                "\(String(decoding: resource.body, as: UTF8.self))")
        await server.client.shutdown()
    }

    @Test func explicitAnyFlagsAdmitAndAreCalledOutByExplainAndTheStartUpLog() async throws {
        let server = try KBSServerProcess(dev: true)
        let admin = server.adminKey
        let policy = #"{"tees":{"sample":{"accept_any_measurement":true}}}"#
        #expect(try await server.admin("POST", "/kbs/v0/attestation-policy", Data(policy.utf8)).status == 200)
        let rules = #"{"rules":[{"resources":["default/key/*"],"any_workload":true}]}"#
        #expect(try await server.admin("POST", "/kbs/v0/resource-policy", Data(rules.utf8)).status == 200)
        #expect(try await server.admin("POST", "/kbs/v0/resource/default/key/disk", Data("k".utf8)).status == 200)
        let key = TEEKeyPair.ec()
        let handshake = try await server.client.handshake(tee: "sample", key: key, evidence: KBSEndToEndTests.evidence(server, measurement: [9]))
        #expect(try await server.client.resource("default/key/disk", session: handshake.session, key: key).plaintext == Array("k".utf8))
        let explain = try run(Repository.executable("coffer"), ["kbs", "explain", handshake.session, "--home", server.home.path + "/state"])
        #expect(explain.status == 0 && explain.stdout.contains("warning attestation policy tees.sample sets accept_any_measurement")
                && explain.stdout.contains("warning resource policy rules[0] sets any_workload"), "\(explain.stdout)")
        await server.client.shutdown()
        _ = Self.stderr(server)
        // Restarted on the same store, the server says so at start-up.
        let again = try KBSServerProcess(dev: true, home: server.home, launcherKey: server.launcherKey, adminKey: admin)
        await again.client.shutdown()
        let log = Self.stderr(again)
        #expect(log.contains("coffer kbs: warning: attestation policy tees.sample sets accept_any_measurement")
                && log.contains("coffer kbs: warning: resource policy rules[0] sets any_workload"), "\(log)")
    }

    /// A policy stored before 0019 that names no workload: reported at start-up, and denied.
    @Test func aStoredPolicyNamingNoWorkloadIsReportedAndDenied() async throws {
        let home = try TemporaryDirectory("coffer-kbs")
        let kbsHome = KBSHome(directory: home.path + "/state/kbs")
        try kbsHome.prepare()
        let store = try await SQLiteStore.open(path: kbsHome.databasePath, masterKey: try kbsHome.masterKey())
        try await store.setAttestationPolicy(AttestationPolicy(tees: ["sample": TEEAttestationPolicy()]))
        try await store.setResourcePolicy(ResourcePolicy(rules: [ResourceRule(resources: ["*"])]))
        await store.close()
        let server = try KBSServerProcess(dev: true, home: home)
        let error = await #expect(throws: KBSClientError.self) {
            try await server.client.handshake(tee: "sample", key: .ec(), evidence: KBSEndToEndTests.evidence(server))
        }
        #expect(error?.status == 401 && error?.information?.denial?.claim == "reference_values")
        await server.client.shutdown()
        let log = Self.stderr(server)
        #expect(log.contains("error: stored attestation policy refused: tees.sample names no reference_values")
                && log.contains("error: stored resource policy refused: rules[0] names no image_ids or measurements"), "\(log)")
    }
}

/// Decision 0019 on loopback: a flood of `auth` from 127.0.0.2 (Linux routes all of 127/8 to lo,
/// so a client can bind it as its source) evicts only its own sessions; 127.0.0.1 still attests.
@Suite(.serialized) struct KBSAuthFloodTests {
    @Test func aFloodFromOneAddressDoesNotStopAnotherClientsHandshake() async throws {
        let server = try KBSServerProcess(dev: true, arguments: ["--max-unauthenticated-per-address", "4"])
        try await KBSEndToEndTests.configure(server)
        let certificate = try String(contentsOfFile: server.certificatePath, encoding: .utf8)
        let flood = try await KBSConnection.connect(url: server.url, trustedCertificatePEM: certificate, sourceAddress: "127.0.0.2")
        let request = Data(CanonicalJSON.serialize(KBSRequest(tee: "sample").json))
        var sessions: [(String, KBSChallenge)] = []
        for _ in 0..<40 {
            let auth = try await flood.send("POST", "/kbs/v0/auth", body: request)
            #expect(auth.status == 200)
            sessions.append((try #require(KBSClient.sessionID(auth)), try KBSChallenge(json: try JSONValue.parse(Array(auth.body)))))
        }
        // The flood's oldest session was evicted to make room for its newer ones...
        let key = TEEKeyPair.ec()
        func attest(_ session: String, _ challenge: KBSChallenge) async throws -> KBSClient.Reply {
            let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: key.publicKey)
            let body = KBSAttestation(runtimeData: runtime, teeEvidence: try KBSEndToEndTests.evidence(server)(runtime, .sha384))
            return try await flood.send("POST", "/kbs/v0/attest", body: Data(CanonicalJSON.serialize(body.json)),
                                        headers: ["Cookie": "kbs-session-id=\(session)"])
        }
        let oldest = try await attest(sessions[0].0, sessions[0].1)
        #expect(oldest.status == 401 && oldest.error?.detail.contains("unknown or expired") == true, "\(String(decoding: oldest.body, as: UTF8.self))")
        // ...its newest still works...
        #expect(try await attest(sessions[39].0, sessions[39].1).status == 200)
        await flood.close()
        // ...and a client on another address runs its whole handshake.
        let other = try await KBSConnection.connect(url: server.url, trustedCertificatePEM: certificate)
        let handshake = try await other.handshake(tee: "sample", key: key, evidence: KBSEndToEndTests.evidence(server))
        #expect(try await other.resource("default/key/disk", session: handshake.session, key: key).0 == Array("the-disk-key".utf8))
        await other.close()
        await server.client.shutdown()
    }
}
