@testable import CofferKBS
import CofferCore
import CofferTestSupport
import Crypto
import Foundation
import Testing
import CofferJSON

/// The real `coffer kbs serve` process over real HTTP on loopback, with real SQLite.
@Suite(.serialized) struct KBSEndToEndTests {
    static let measurement = [UInt8](repeating: 0x5C, count: 48)

    static func configure(_ server: KBSServerProcess, resource: String = "default/key/disk", value: String = "the-disk-key") async throws {
        let policy = AttestationPolicy(tees: ["sample": TEEAttestationPolicy(referenceValues: ["measurement": [Hex.encode(measurement)]])])
        #expect(try await server.admin("POST", "/kbs/v0/attestation-policy", JSONEncoder().encode(policy)).status == 200)
        let rules = ResourcePolicy(rules: [ResourceRule(resources: ["default/key/*"], measurements: ["measurement": [Hex.encode(measurement)]])])
        #expect(try await server.admin("POST", "/kbs/v0/resource-policy", JSONEncoder().encode(rules)).status == 200)
        #expect(try await server.admin("POST", "/kbs/v0/resource/\(resource)", Data(value.utf8)).status == 200)
    }

    static func evidence(_ server: KBSServerProcess, measurement: [UInt8] = measurement) -> @Sendable (RuntimeData, BindingHash) throws -> CompositeEvidence {
        let attester = SampleAttester(launcherKey: server.launcherKey, measurement: measurement)
        return { runtime, hash in try attester.evidence(runtimeData: runtime, hash: hash) }
    }

    @Test func devModeSampleEvidenceGetsTheResourceSignedByTheKBS() async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server)
        let key = TEEKeyPair.ec()
        let handshake = try await server.client.handshake(tee: "sample", key: key, evidence: Self.evidence(server))
        let (secret, reply) = try await server.client.resource("default/key/disk", session: handshake.session, key: key)
        #expect(secret == Array("the-disk-key".utf8))
        let pem = String(decoding: try await server.client.send("GET", "/kbs/v0/signing-key").body, as: UTF8.self)
        let kbsKey = try P256.Signing.PublicKey(pemRepresentation: pem)
        let signature = try #require(reply.header(KBSServer.signatureHeader.rawName))
        let resource = try ResourceURI(path: "default/key/disk")
        #expect(throws: Never.self) { try ResourceSignature.verify(signature, body: Array(reply.body), resource: resource, teePubkey: key.publicKey, key: kbsKey) }
        #expect(throws: KBSProtocolError.self) {
            try ResourceSignature.verify(signature, body: Array(reply.body) + [0x20], resource: resource, teePubkey: key.publicKey, key: kbsKey)
        }
        // The token works without the cookie.
        let byToken = try await server.client.send("GET", "/kbs/v0/resource/default/key/disk", headers: ["Authorization": "Bearer \(handshake.token)"])
        #expect(byToken.status == 200)
        #expect(try key.decrypt(JSONDecoder().decode(JWEResponse.self, from: byToken.body)) == Array("the-disk-key".utf8))
        // The audit log records it, and explain reads the last decision of the session.
        await server.client.shutdown()
        server.stop()
        let explain = try run(Repository.executable("coffer"), ["kbs", "explain", handshake.session, "--home", server.home.path + "/state"])
        #expect(explain.status == 0 && explain.stdout.contains("allowed") && explain.stdout.contains("resource default/key/disk"))
        // No secret in anything the server printed.
        let logs = String(decoding: server.logs(), as: UTF8.self)
        #expect(!logs.contains("the-disk-key"))
    }

    /// `KBSConnection`: auth, attest and resource over one keep-alive connection (as a Trustee
    /// client does), twice in a row, over HTTPS with the pinned certificate and over plain HTTP.
    @Test(arguments: [true, false])
    func oneKeepAliveConnectionCarriesWholeHandshakes(tls: Bool) async throws {
        let server = try KBSServerProcess(dev: true, tls: tls)
        try await Self.configure(server)
        let certificate = tls ? try String(contentsOfFile: server.certificatePath, encoding: .utf8) : nil
        let connection = try await KBSConnection.connect(url: server.url, trustedCertificatePEM: certificate)
        for _ in 0..<2 {
            let key = TEEKeyPair.ec()
            let handshake = try await connection.handshake(tee: "sample", key: key, evidence: Self.evidence(server))
            #expect(try await connection.resource("default/key/disk", session: handshake.session, key: key).plaintext == Array("the-disk-key".utf8))
        }
        await connection.close()
        if tls {
            // Another certificate is not trusted.
            let stranger = try KBSServerProcess(dev: true)
            let other = try String(contentsOfFile: stranger.certificatePath, encoding: .utf8)
            await #expect(throws: (any Error).self) {
                let refused = try await KBSConnection.connect(url: server.url, trustedCertificatePEM: other)
                _ = try await refused.send("GET", "/kbs/v0/signing-key", body: nil, headers: [:])
            }
            stranger.stop()
        }
    }

    @Test func theCLIClientPrintsTheSecret() async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server, value: "cli-secret")
        let launcher = try server.home.write("launcher.key", server.launcherKey.pemRepresentation, mode: 0o600)
        let result = try run(Repository.executable("coffer"), ["kbs", "client", "attest-and-get", "--url", server.url, "--home", server.home.path + "/client",
                                                              "--launcher-key", launcher, "--measurement", Hex.encode(Self.measurement),
                                                              "--resource", "default/key/disk", "--kbs-key", server.home.path + "/state/kbs/signing.pub",
                                                              "--cacert", server.certificatePath])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "cli-secret")
    }

    @Test func tlsIsRealAndPlainHTTPIsLoopbackOnly() async throws {
        let server = try KBSServerProcess(dev: true)
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        // A client that does not trust the KBS's self-signed certificate cannot talk to it.
        let stranger = try KBSClient(baseURL: server.url, connectTimeout: 1)
        await #expect(throws: (any Error).self) { try await stranger.send("GET", "/kbs/v0/signing-key") }
        #expect(try await server.client.send("GET", "/kbs/v0/signing-key").status == 200)
        let cert = try String(contentsOfFile: server.certificatePath, encoding: .utf8)
        #expect(cert.hasPrefix("-----BEGIN CERTIFICATE-----"))
        let plain = try KBSServerProcess(dev: true, tls: false)
        #expect(plain.url.hasPrefix("http://127.0.0.1:"))
        #expect(try await plain.client.send("GET", "/kbs/v0/signing-key").status == 200)
        let exposed = try run(Repository.executable("coffer"), ["kbs", "serve", "--listen", "0.0.0.0:0", "--insecure-http", "--home", server.home.path + "/other"])
        #expect(exposed.status != 0 && exposed.stderr.contains("loopback"))
    }

    @Test func withoutDevSampleEvidenceIsRefusedNamingSample() async throws {
        let server = try KBSServerProcess(dev: false)
        try await Self.configure(server)
        let error = await #expect(throws: KBSClientError.self) {
            try await server.client.handshake(tee: "sample", key: .ec(), evidence: Self.evidence(server))
        }
        #expect(error?.status == 401 && error?.information?.denial?.actual == "sample")
        #expect(error?.information?.detail.contains("sample") == true)
        let explain = try run(Repository.executable("coffer"), ["kbs", "explain", try #require(error?.session), "--home", server.home.path + "/state"])
        #expect(explain.status != 0 && explain.stdout.contains("claim   tee"))
    }

    @Test func wrongMeasurementIsDeniedWithTheClaimNamed() async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server)
        let wrong = [UInt8](repeating: 0x01, count: 48)
        let error = await #expect(throws: KBSClientError.self) {
            try await server.client.handshake(tee: "sample", key: .ec(), evidence: Self.evidence(server, measurement: wrong))
        }
        let denial = try #require(error?.information?.denial)
        #expect(error?.status == 401 && denial.claim == "measurement" && denial.expected == Hex.encode(Self.measurement) && denial.actual == Hex.encode(wrong))
    }

    @Test func aReplayedNonceIsRefused() async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server)
        let client = server.client
        let auth = try await client.send("POST", "/kbs/v0/auth", body: JSONEncoder().encode(KBSRequest(tee: "sample")))
        let session = try #require(KBSClient.sessionID(auth))
        let challenge = try JSONDecoder().decode(KBSChallenge.self, from: auth.body)
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: TEEKeyPair.ec().publicKey)
        let body = try JSONEncoder().encode(KBSAttestation(runtimeData: runtime, teeEvidence: try Self.evidence(server)(runtime, .sha384)))
        let cookie = ["Cookie": "kbs-session-id=\(session)"]
        #expect(try await client.send("POST", "/kbs/v0/attest", body: body, headers: cookie).status == 200)
        let replay = try await client.send("POST", "/kbs/v0/attest", body: body, headers: cookie)
        #expect(replay.status == 401 && replay.error?.detail.contains("already used") == true)
        // The same evidence under a fresh session: its nonce is not that session's.
        let other = try await client.send("POST", "/kbs/v0/auth", body: JSONEncoder().encode(KBSRequest(tee: "sample")))
        let foreign = try await client.send("POST", "/kbs/v0/attest", body: body, headers: ["Cookie": "kbs-session-id=\(try #require(KBSClient.sessionID(other)))"])
        #expect(foreign.status == 401 && foreign.error?.denial?.claim == "nonce")
    }

    @Test(arguments: [("tdx", "tdx-dcap", "9a9d48e7f6799642"), ("sgx", "sgx-dcap", "48656c6c6f2c20776f726c6421")])
    func aRealQuoteIsRefusedForItsReportDataBinding(tee: String, vector: String, reportData: String) async throws {
        let server = try KBSServerProcess(dev: false)
        let primary = try VectorPolicyTests.primary(vector)
        let error = await #expect(throws: KBSClientError.self) {
            try await server.client.handshake(tee: tee, key: .ec()) { _, _ in CompositeEvidence(primaryEvidence: primary) }
        }
        #expect(error?.status == 401 && error?.information?.denial?.claim == "report_data")
        #expect(error?.information?.denial?.actual?.hasPrefix(reportData) == true)
    }

    @Test func malformedInputGetsAClearClientError() async throws {
        let server = try KBSServerProcess(dev: true)
        let client = server.client
        func expect(_ method: String, _ path: String, _ body: Data?, _ status: Int, _ text: String, headers: [String: String] = [:]) async throws {
            let reply = try await client.send(method, path, body: body, headers: headers)
            #expect(reply.status == status, "\(method) \(path): \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
            #expect(reply.error?.detail.contains(text) == true, "\(String(decoding: reply.body, as: UTF8.self))")
        }
        try await expect("POST", "/kbs/v0/auth", Data("{not json".utf8), 400, "malformed Request JSON")
        try await expect("POST", "/kbs/v0/auth", Data(#"{"version":"0.4.0","extra-params":{}}"#.utf8), 400, "missing field \"tee\"")
        try await expect("POST", "/kbs/v0/auth", Data(#"{"version":"0.4.0","tee":"cca","extra-params":{}}"#.utf8), 400, "tee \"cca\" is not supported")
        try await expect("POST", "/kbs/v0/auth", Data(repeating: 0x20, count: 300 * 1024), 413, "exceeds")
        let deep = #"{"version":"0.4.0","tee":"sample","extra-params":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        try await expect("POST", "/kbs/v0/auth", Data(deep.utf8), 400, "malformed Request JSON")
        let auth = try await client.send("POST", "/kbs/v0/auth", body: JSONEncoder().encode(KBSRequest(tee: "sample")))
        let session = try #require(KBSClient.sessionID(auth))
        let challenge = try JSONDecoder().decode(KBSChallenge.self, from: auth.body)
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: TEEKeyPair.ec().publicKey)
        let bad = KBSAttestation(runtimeData: runtime, teeEvidence: CompositeEvidence(primaryEvidence: .object(["evidence": .string("@@@")])))
        try await expect("POST", "/kbs/v0/attest", try JSONEncoder().encode(bad), 400, "not valid base64", headers: ["Cookie": "kbs-session-id=\(session)"])
        try await expect("POST", "/kbs/v0/attest", try JSONEncoder().encode(bad), 401, "kbs-session-id")
        try await expect("GET", "/kbs/v0/resource/a/b/c", nil, 401, "attest first")
        try await expect("GET", "/kbs/v0/resource/a/b/c", nil, 401, "token refused", headers: ["Authorization": "Bearer x.y.z"])
        try await expect("POST", "/kbs/v0/resource/a/b/c", Data("v".utf8), 401, "Bearer")
        let stranger = try AdminAuthenticator.token(key: P256.Signing.PrivateKey(), now: Date())
        try await expect("POST", "/kbs/v0/resource/a/b/c", Data("v".utf8), 401, "does not verify", headers: ["Authorization": "Bearer \(stranger)"])
        try await expect("POST", "/kbs/v0/attestation-policy", Data(#"{"tees":{"tdx":{"tcb_statuses":["Bogus"]}}}"#.utf8), 400, "attestation policy",
                         headers: try server.adminHeaders())
        #expect(server.process.isRunning)
    }
}

extension KBSServerProcess {
    /// Everything the server wrote to stderr (after it stopped).
    func logs() -> Data { (try? errorsHandle.readToEnd()) ?? Data() }
}
