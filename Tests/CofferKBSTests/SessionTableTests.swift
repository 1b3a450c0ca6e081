@testable import CofferKBS
import CofferVerifier
import Crypto
import Foundation
import Testing

/// Decision 0019: `auth` costs nothing, so unauthenticated sessions are bounded per source and in
/// total, dead ones go first, and a flood from one address never shuts out another.
@Suite struct SessionTableTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let claims = Claims(tee: .sample, hardwareBacked: false, tcbStatus: nil, advisoryIDs: [], measurements: [:], reportData: "")

    func session(_ id: String, from source: String, at time: Date, nonceLifetime: TimeInterval = 60) -> Session {
        Session(id: id, tee: .sample, hash: .sha384, expiry: time.addingTimeInterval(300),
                state: .challenged(nonce: "n-" + id, nonceExpiry: time.addingTimeInterval(nonceLifetime)), source: source)
    }

    func attest(_ table: SessionTable, _ id: String) throws {
        _ = try table.consumeNonce(id, now: now).get()
        let key = TEEKeyPair.ec().publicKey
        table.update(id, state: .attested(claims: Self.claims, claimsDigest: "d", teePubkey: key))
    }

    @Test func aFloodFromOneAddressDoesNotStopAnotherClient() throws {
        let table = SessionTable(limits: SessionLimits(total: 1_000, unauthenticated: 500, unauthenticatedPerSource: 50))
        for i in 0..<10_000 { #expect(table.insert(session("a\(i)", from: "10.0.0.1", at: now), now: now)) }
        #expect(table.counts(source: "10.0.0.1").fromSource == 50 && table.counts().total == 50)
        // The flood evicted its own oldest sessions; its newest are live.
        #expect(table.get("a0", now: now) == nil && table.get("a9999", now: now) != nil)
        #expect(table.insert(session("b", from: "10.0.0.2", at: now), now: now))
        #expect(try table.consumeNonce("b", now: now).get().1 == "n-b")
    }

    @Test func lapsedNoncesAreEvictedBeforeLiveSessions() throws {
        let table = SessionTable(limits: SessionLimits(total: 1_000, unauthenticated: 500, unauthenticatedPerSource: 4))
        let early = now.addingTimeInterval(-120)
        for i in 0..<2 { #expect(table.insert(session("old\(i)", from: "a", at: early), now: early)) }
        for i in 0..<2 { #expect(table.insert(session("new\(i)", from: "a", at: now), now: now)) }
        // Full: the next one drops the two lapsed challenges, not a live one.
        #expect(table.insert(session("x", from: "a", at: now), now: now))
        #expect(table.counts(source: "a").fromSource == 3)
        #expect(table.get("old0", now: now) == nil && table.get("old1", now: now) == nil)
        #expect(table.get("new0", now: now) != nil && table.get("new1", now: now) != nil)
        // A refused session is dead too, even if it is not the oldest.
        _ = try table.consumeNonce("new1", now: now).get()
        table.update("new1", state: .refused)
        #expect(table.insert(session("y", from: "a", at: now), now: now) && table.insert(session("z", from: "a", at: now), now: now))
        #expect(table.get("new1", now: now) == nil && table.get("new0", now: now) != nil)
    }

    @Test func theTotalBoundHoldsAcrossAddressesAndSparesAttestedSessions() throws {
        let table = SessionTable(limits: SessionLimits(total: 300, unauthenticated: 100, unauthenticatedPerSource: 10))
        for i in 0..<20 { #expect(table.insert(session("ok\(i)", from: "honest", at: now), now: now)); try attest(table, "ok\(i)") }
        for i in 0..<5_000 { #expect(table.insert(session("f\(i)", from: "10.1.\(i % 200).1", at: now), now: now)) }
        let counts = table.counts()
        #expect(counts.unauthenticated == 100 && counts.total == 120)
        for i in 0..<20 { #expect(table.get("ok\(i)", now: now) != nil, "attested session evicted by the flood") }
        #expect(table.insert(session("late", from: "honest", at: now), now: now))
        #expect(table.get("late", now: now) != nil)
    }

    @Test func onlyATableFullOfAttestedSessionsRefuses() throws {
        let table = SessionTable(limits: SessionLimits(total: 5, unauthenticated: 5, unauthenticatedPerSource: 5))
        for i in 0..<5 { #expect(table.insert(session("s\(i)", from: "a", at: now), now: now)); try attest(table, "s\(i)") }
        #expect(!table.insert(session("more", from: "b", at: now), now: now))
        // Once they expire there is room again.
        let later = now.addingTimeInterval(301)
        #expect(table.insert(session("more", from: "b", at: later), now: later))
    }

    /// The broker: a flood of `auth` from one address, then another client's whole handshake.
    @Test func theBrokerStillServesAnotherAddressDuringAFlood() async throws {
        let launcher = Curve25519.Signing.PrivateKey()
        let store = MemoryStore()
        try await store.setAttestationPolicy(AttestationPolicy(tees: ["sample": TEEAttestationPolicy(acceptAnyMeasurement: true)]))
        let kbs = KeyBroker(configuration: KBSConfiguration(devMode: true, trust: TrustAnchors(sampleSigners: [launcher.publicKey]),
                                                            sessionLimits: SessionLimits(total: 200, unauthenticated: 100, unauthenticatedPerSource: 20)),
                            store: store, signingKey: P256.Signing.PrivateKey())
        for _ in 0..<1_000 { _ = try await kbs.auth(KBSRequest(tee: "sample"), source: "192.0.2.66", now: now) }
        let (session, challenge) = try await kbs.auth(KBSRequest(tee: "sample"), source: "192.0.2.1", now: now)
        let key = TEEKeyPair.ec()
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: key.publicKey)
        let evidence = try SampleAttester(launcherKey: launcher, measurement: [1]).evidence(runtimeData: runtime, hash: .sha384)
        let token = try await kbs.attest(session: session, KBSAttestation(runtimeData: runtime, teeEvidence: evidence), now: now)
        #expect(!token.isEmpty)
        #expect((kbs.sessions as? SessionTable)?.counts(source: "192.0.2.66").fromSource == 20)
    }
}
