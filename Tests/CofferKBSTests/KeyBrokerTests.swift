import CofferKBSProtocol
@testable import CofferKBS
import CofferCore
import CofferTestSupport
import CofferVerifier
import Crypto
import Foundation
import Testing
import CofferJSON

/// The whole RCAR flow through the pure core, with real sample evidence, real JWE and JWT.
@Suite struct KeyBrokerTests {
    let launcher = Curve25519.Signing.PrivateKey()
    let measurement = [UInt8](repeating: 0xA5, count: 48)
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func broker(dev: Bool = true) async throws -> KeyBroker {
        let store = MemoryStore()
        try await store.setAttestationPolicy(AttestationPolicy(tees: ["sample": TEEAttestationPolicy(referenceValues: ["measurement": [Hex.encode(measurement)]])]))
        try await store.setResourcePolicy(ResourcePolicy(rules: [ResourceRule(resources: ["default/key/*"], tees: ["sample"], measurements: ["measurement": [Hex.encode(measurement)]])]))
        try await store.putResource("default/key/disk", Array("s3cret".utf8))
        return KeyBroker(configuration: KBSConfiguration(devMode: dev, trust: TrustAnchors(sampleSigners: [launcher.publicKey])),
                         store: store, signingKey: P256.Signing.PrivateKey())
    }

    func attestation(_ challenge: KBSChallenge, key: TEEKeyPair, measurement: [UInt8]? = nil, nonce: String? = nil) throws -> KBSAttestation {
        let runtime = RuntimeData(nonce: nonce ?? challenge.nonce, teePubkey: key.publicKey)
        let hash = BindingHash(rawValue: challenge.extraParams[KBSProtocol.selectedHashAlgorithmKey]?.stringValue ?? "") ?? .sha384
        let attester = SampleAttester(launcherKey: launcher, measurement: measurement ?? self.measurement)
        return KBSAttestation(runtimeData: runtime, teeEvidence: try attester.evidence(runtimeData: runtime, hash: hash))
    }

    @Test func sampleEvidenceInDevModeGetsTheResourceBySessionAndByToken() async throws {
        let kbs = try await broker()
        let (session, challenge) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        #expect(challenge.extraParams[KBSProtocol.selectedHashAlgorithmKey] == .string("sha384"))
        let key = TEEKeyPair.ec()
        let token = try await kbs.attest(session: session, try attestation(challenge, key: key), now: now)
        let path = try ResourceURI(path: "default/key/disk")
        #expect(try key.decrypt(try await kbs.resource(path, credential: .session(session), now: now).jwe) == Array("s3cret".utf8))
        #expect(try key.decrypt(try await kbs.resource(path, credential: .token(token), now: now).jwe) == Array("s3cret".utf8))
        await #expect(throws: KBSFailure.self) { try await kbs.resource(path, credential: .token(token), now: now.addingTimeInterval(3600)) }
        let missing = try ResourceURI(path: "default/key/none")
        await #expect { try await kbs.resource(missing, credential: .session(session), now: now) } throws: { ($0 as? KBSFailure)?.status == 404 }
        let last = await kbs.lastDecision(session: session)
        #expect(last?.allowed == false && last?.action == "resource default/key/none")
    }

    @Test func withoutDevModeSampleIsRefusedNamingSample() async throws {
        let kbs = try await broker(dev: false)
        let (session, challenge) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        let failure = await #expect(throws: KBSFailure.self) { try await kbs.attest(session: session, try attestation(challenge, key: .ec()), now: now) }
        #expect(failure?.status == 401 && failure?.denial?.actual == "sample" && failure?.detail.contains("sample") == true)
        #expect(await kbs.lastDecision(session: session)?.denial?.claim == "tee")
    }

    @Test func wrongMeasurementIsDeniedNamingTheClaim() async throws {
        let kbs = try await broker()
        let (session, challenge) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        let wrong = [UInt8](repeating: 0x11, count: 48)
        let failure = await #expect(throws: KBSFailure.self) { try await kbs.attest(session: session, try attestation(challenge, key: .ec(), measurement: wrong), now: now) }
        #expect(failure?.denial?.claim == "measurement" && failure?.denial?.expected == Hex.encode(measurement) && failure?.denial?.actual == Hex.encode(wrong))
        let decision = try #require(await kbs.lastDecision(session: session))
        #expect(!decision.allowed && decision.denial?.claim == "measurement" && !decision.claimsDigest.isEmpty)
    }

    @Test func aNonceIsUsedOnceAndOnlyInItsSession() async throws {
        let kbs = try await broker()
        let (session, challenge) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        let body = try attestation(challenge, key: .ec())
        _ = try await kbs.attest(session: session, body, now: now)
        let replay = await #expect(throws: KBSFailure.self) { try await kbs.attest(session: session, body, now: now) }
        #expect(replay?.status == 401 && replay?.detail.contains("already used") == true)
        let (other, _) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        let foreign = await #expect(throws: KBSFailure.self) { try await kbs.attest(session: other, body, now: now) }
        #expect(foreign?.denial?.claim == "nonce")
    }

    @Test func expiredNonceAndUnboundEvidenceAreRefused() async throws {
        let kbs = try await broker()
        let (session, challenge) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        let late = await #expect(throws: KBSFailure.self) { try await kbs.attest(session: session, try attestation(challenge, key: .ec()), now: now.addingTimeInterval(61)) }
        #expect(late?.detail.contains("expired") == true)
        let (s2, c2) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        var swapped = try attestation(c2, key: .ec())
        swapped.runtimeData.teePubkey = TEEKeyPair.ec().publicKey
        let unbound = await #expect(throws: KBSFailure.self) { try await kbs.attest(session: s2, swapped, now: now) }
        #expect(unbound?.denial?.claim == "report_data")
    }

    @Test func malformedRequestsAreClientErrors() async throws {
        let kbs = try await broker()
        await #expect(throws: KBSFailure.self) { try await kbs.auth(KBSRequest(tee: "cca"), now: now) }
        await #expect(throws: KBSFailure.self) { try await kbs.auth(KBSRequest(version: "0.1.0", tee: "sample"), now: now) }
        let (session, challenge) = try await kbs.auth(KBSRequest(tee: "sample"), now: now)
        var bad = try attestation(challenge, key: .ec())
        bad.teeEvidence.primaryEvidence = .object(["evidence": .string("!!!not base64")])
        let failure = await #expect(throws: KBSFailure.self) { try await kbs.attest(session: session, bad, now: now) }
        #expect(failure?.status == 400 && failure?.detail.contains("base64") == true)
        #expect(throws: ResourceURI.Malformed.self) { try ResourceURI(path: "../etc/passwd") }
    }
}

/// Real SGX and TDX quotes from ../shared/vectors through the attestation policy at pinned times.
/// They cannot bind a nonce of ours; `appraise` is the decision after the binding check.
@Suite struct VectorPolicyTests {
    static func primary(_ name: String) throws -> JSONValue {
        let quote = try Vectors.data(name + "/quote.bin")
        let collateral = try JSONDecoder().decode(JSONValue.self, from: Vectors.data(name + "/collateral.json"))
        return .object(["quote": .string(quote.base64EncodedString()), "collateral": collateral])
    }
    let valid = Date(timeIntervalSince1970: 1_750_600_000)
    let config = KBSConfiguration()

    @Test func tdxUpToDatePassesWithItsMeasurementAndFailsWithAnother() throws {
        let mrTD = "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"
        var policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": [mrTD]])])
        let claims = try KeyBroker.appraise(tee: .tdx, primaryEvidence: Self.primary("tdx-dcap"), policy: policy, configuration: config, at: valid).get()
        #expect(claims.measurements["mr_td"] == mrTD)
        policy.tees["tdx"]?.referenceValues["mr_td"] = [String(repeating: "0", count: 96)]
        guard case .failure(let failure) = KeyBroker.appraise(tee: .tdx, primaryEvidence: try Self.primary("tdx-dcap"), policy: policy, configuration: config, at: valid) else {
            Issue.record("a wrong mr_td passed"); return
        }
        #expect(failure.denial?.claim == "mr_td" && failure.denial?.actual == mrTD)
    }

    @Test func tdxAfterItsTCBInfoExpiredFailsVerification() throws {
        let policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy()])
        guard case .failure(let failure) = KeyBroker.appraise(tee: .tdx, primaryEvidence: try Self.primary("tdx-dcap"), policy: policy, configuration: config,
                                                              at: Date(timeIntervalSince1970: 1_771_500_000)) else {
            Issue.record("expired collateral passed"); return
        }
        #expect(failure.denial?.claim == "evidence" && failure.denial?.expected.contains("expired") == true)
    }

    @Test func sgxNeedsTheOperatorToAcceptItsTCBStatusAndAdvisories() throws {
        var policy = AttestationPolicy(tees: ["sgx": TEEAttestationPolicy()])
        guard case .failure(let strict) = KeyBroker.appraise(tee: .sgx, primaryEvidence: try Self.primary("sgx-dcap"), policy: policy, configuration: config, at: valid) else {
            Issue.record("default policy accepted ConfigurationAndSWHardeningNeeded"); return
        }
        #expect(strict.denial?.claim == "tcb_status" && strict.denial?.actual == "ConfigurationAndSWHardeningNeeded")
        policy.tees["sgx"] = TEEAttestationPolicy(tcbStatuses: [.upToDate, .configurationAndSWHardeningNeeded])
        guard case .failure(let advisory) = KeyBroker.appraise(tee: .sgx, primaryEvidence: try Self.primary("sgx-dcap"), policy: policy, configuration: config, at: valid) else {
            Issue.record("advisories were not checked"); return
        }
        #expect(advisory.denial?.claim == "advisory_ids" && advisory.denial?.actual == "INTEL-SA-00289")
        policy.tees["sgx"]?.allowedAdvisoryIDs = ["INTEL-SA-00289", "INTEL-SA-00615"]
        policy.tees["sgx"]?.referenceValues = ["mr_enclave": ["33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"]]
        #expect(throws: Never.self) { try KeyBroker.appraise(tee: .sgx, primaryEvidence: try Self.primary("sgx-dcap"), policy: policy, configuration: config, at: valid).get() }
    }

    @Test func aQuoteUnderTheWrongTEEIsRefused() throws {
        guard case .failure(let failure) = KeyBroker.appraise(tee: .sgx, primaryEvidence: try Self.primary("tdx-dcap"), policy: AttestationPolicy(), configuration: config, at: valid) else {
            Issue.record("tdx quote accepted as sgx"); return
        }
        #expect(failure.status == 400)
    }
}
