import CofferKBSProtocol
@testable import CofferKBS
import CofferCore
import CofferTestSupport
import CofferVerifier
import Crypto
import Foundation
import Testing

/// Sessions expire: a session cookie is refused once the session lifetime has passed.
@Suite(.serialized) struct KBSSessionLifetimeTests {
    /// The core at pinned times: the session reads the resource up to its lifetime, not after.
    @Test func aSessionIsRefusedAfterItsLifetime() async throws {
        let launcher = Curve25519.Signing.PrivateKey()
        let store = MemoryStore()
        try await store.setAttestationPolicy(AttestationPolicy(tees: ["sample": TEEAttestationPolicy(referenceValues: ["measurement": ["01" + String(repeating: "00", count: 47)]])]))
        try await store.setResourcePolicy(ResourcePolicy(rules: [ResourceRule(resources: ["*"], anyWorkload: true)]))
        try await store.putResource("default/key/disk", Array("s3cret".utf8))
        let kbs = KeyBroker(configuration: KBSConfiguration(devMode: true, trust: TrustAnchors(sampleSigners: [launcher.publicKey]), sessionLifetime: 10),
                            store: store, signingKey: P256.Signing.PrivateKey())
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let (session, challenge) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        let key = TEEKeyPair.ec()
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: key.publicKey)
        let evidence = try SampleAttester(launcherKey: launcher, measurement: [1]).evidence(runtimeData: runtime, hash: .sha384)
        _ = try await kbs.attest(session: session, KBSAttestation(runtimeData: runtime, teeEvidence: evidence), now: now.addingTimeInterval(1))
        let path = try ResourceURI(path: "default/key/disk")
        #expect(try key.decrypt(try await kbs.resource(path, credential: .session(session), now: now.addingTimeInterval(9.9)).jwe) == Array("s3cret".utf8))
        let late = await #expect(throws: KBSFailure.self) { try await kbs.resource(path, credential: .session(session), now: now.addingTimeInterval(10)) }
        #expect(late?.status == 401 && late?.detail.contains("expired") == true)
    }

    /// The real server with `--session-lifetime 2`: the cookie says so, and once two seconds have
    /// passed since the server set it, the session is refused (the test waits; it times nothing).
    @Test func theServersSessionCookieIsRefusedAfterTheLifetime() async throws {
        let server = try KBSServerProcess(dev: true, arguments: ["--session-lifetime", "2"])
        try await KBSEndToEndTests.configure(server)
        let client = server.client
        let started = Date()
        let auth = try await client.send("POST", "/kbs/v0/auth", body: JSONEncoder().encode(KBSRequest(tee: "sample")))
        let answered = Date()
        #expect(auth.header("Set-Cookie")?.contains("Max-Age=2;") == true, "\(auth.header("Set-Cookie") ?? "no cookie")")
        let session = try #require(KBSClient.sessionID(auth))
        let challenge = try JSONDecoder().decode(KBSChallenge.self, from: auth.body)
        let key = TEEKeyPair.ec()
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: key.publicKey)
        let body = try JSONEncoder().encode(KBSAttestation(runtimeData: runtime, teeEvidence: try KBSEndToEndTests.evidence(server)(runtime, .sha384)))
        let cookie = ["Cookie": "kbs-session-id=\(session)"]
        let attest = try await client.send("POST", "/kbs/v0/attest", body: body, headers: cookie)
        let fresh = try await client.send("GET", "/kbs/v0/resource/default/key/disk", headers: cookie)
        // Within the lifetime (unless this machine took that long) the session works.
        if Date().timeIntervalSince(started) < 2 {
            #expect(attest.status == 200 && fresh.status == 200)
        }
        // The server set the expiry no later than `answered` + 2 s; wait past it.
        let wait = answered.addingTimeInterval(2.5).timeIntervalSinceNow
        if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
        let late = try await client.send("GET", "/kbs/v0/resource/default/key/disk", headers: cookie)
        #expect(late.status == 401 && late.error?.detail.contains("expired") == true, "\(String(decoding: late.body, as: UTF8.self))")
        // The CLI refuses a lifetime out of range.
        let bad = try run("/usr/bin/timeout", ["20", Repository.executable("coffer"), "kbs", "serve", "--listen", "127.0.0.1:0", "--insecure-http",
                                               "--home", server.home.path + "/other", "--session-lifetime", "0"])
        #expect(bad.status != 0 && bad.status != 124 && bad.stderr.contains("--session-lifetime 0"))
        await client.shutdown()
    }
}
