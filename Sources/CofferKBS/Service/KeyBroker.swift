import CofferCore
import CofferEvidence
import CofferVerifier
import Crypto
import Foundation
import CofferJSON

/// The KBS without HTTP: RCAR sessions, evidence verification, policy, tokens and JWE release.
/// Every method takes `now`, so tests pin time; the HTTP layer passes the clock.
public final class KeyBroker: Sendable {
    public let configuration: KBSConfiguration
    public let store: any KBSStore
    let signingKey: P256.Signing.PrivateKey
    let sessions: any SessionDirectory

    /// `sessions`: nil keeps them in this process (`SessionTable`); replicas pass the shared
    /// directory of their database (`PostgresStore`), with the signing key they all share.
    public init(configuration: KBSConfiguration, store: any KBSStore, signingKey: P256.Signing.PrivateKey,
                sessions: (any SessionDirectory)? = nil) {
        self.configuration = configuration
        self.store = store
        self.signingKey = signingKey
        self.sessions = sessions ?? SessionTable(limits: configuration.sessionLimits)
    }

    public var publicKey: P256.Signing.PublicKey { signingKey.publicKey }

    /// `POST /auth`: a new session and its challenge. `source` is the client's address (the
    /// connection's remote IP), by which unauthenticated sessions are bounded.
    public func auth(_ request: KBSRequest, source: String = "", now: Date) async throws(KBSFailure) -> (session: String, challenge: KBSChallenge) {
        guard request.version == KBSProtocol.version else {
            throw .badRequest("protocol version \"\(request.version.prefix(32))\" is not supported: this KBS speaks \(KBSProtocol.version)")
        }
        guard let tee = KBSTee(rawValue: request.tee) else {
            throw .badRequest("tee \"\(request.tee.prefix(32))\" is not supported: use one of \(KBSTee.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let hash = BindingHash.select(from: request.extraParams) else {
            throw .badRequest("extra-params.supported-hash-algorithms offers none of sha256, sha384, sha512")
        }
        let id = Self.randomToken(16)
        let nonce = Data(Self.randomBytes(32)).base64EncodedString()
        let session = Session(id: id, tee: tee, hash: hash, expiry: now.addingTimeInterval(configuration.sessionLifetime),
                              state: .challenged(nonce: nonce, nonceExpiry: now.addingTimeInterval(configuration.nonceLifetime)), source: source)
        let inserted: Bool
        do { inserted = try await sessions.insert(session, now: now) } catch { throw .unavailable("session store unavailable; retry") }
        guard inserted else {
            throw KBSFailure(status: 503, kind: "Busy", detail: "too many attested sessions open; retry later")
        }
        return (id, KBSChallenge(nonce: nonce, extraParams: .object([KBSProtocol.selectedHashAlgorithmKey: .string(hash.rawValue)])))
    }

    /// `POST /attest`: verifies the evidence, its binding and the policy; returns the token.
    public func attest(session id: String?, _ attestation: KBSAttestation, now: Date) async throws(KBSFailure) -> String {
        try await attestSession(id, attestation, now: now).token
    }

    /// `attest`, also returning when the session (and so its cookie) expires.
    func attestSession(_ id: String?, _ attestation: KBSAttestation, now: Date) async throws(KBSFailure) -> (token: String, expiry: Date) {
        guard let id else { throw .attestationFailed("no kbs-session-id cookie: call POST /kbs/v0/auth first") }
        let taken: Result<(Session, String), KBSFailure>
        do { taken = try await sessions.consumeNonce(id, now: now) } catch { throw .unavailable("session store unavailable; retry") }
        let (session, nonce) = try taken.get()
        do throws(Refusal) {
            let claims = try await evaluate(session: session, nonce: nonce, attestation, now: now)
            let digest = Self.digest(claims)
            let token = try issueToken(session: id, claims: claims, claimsDigest: digest, teePubkey: attestation.runtimeData.teePubkey, now: now)
            /// Security: fail closed — a success that cannot be audited is not granted.
            do {
                try await store.record(Decision(time: now, session: id, tee: session.tee.rawValue, claimsDigest: digest,
                                                action: "attest", allowed: true, reason: "allowed", imageID: claims.imageID))
            } catch {
                throw Refusal(failure: .unavailable("audit log unavailable; retry"))
            }
            do {
                try await sessions.update(id, state: .attested(claims: claims, claimsDigest: digest, teePubkey: attestation.runtimeData.teePubkey))
            } catch {
                throw Refusal(failure: .unavailable("session store unavailable; retry"))
            }
            return (token, session.expiry)
        } catch {
            try? await sessions.update(id, state: .refused)
            await audit(Decision(time: now, session: id, tee: session.tee.rawValue, claimsDigest: error.claimsDigest,
                                 action: "attest", allowed: false, reason: error.failure.detail, denial: error.failure.denial,
                                 imageID: error.imageID))
            throw error.failure
        }
    }

    struct Refusal: Error { var failure: KBSFailure; var claimsDigest: String = ""; var imageID: String? = nil }

    private func evaluate(session: Session, nonce: String, _ attestation: KBSAttestation, now: Date) async throws(Refusal) -> Claims {
        /// Security: the nonce in runtime-data must be the one this session issued, so evidence
        /// made for another (or an earlier) challenge is refused even if its binding is valid.
        guard attestation.runtimeData.nonce == nonce else {
            throw Refusal(failure: .attestationFailed("runtime-data.nonce is not this session's nonce (replayed or foreign challenge)",
                denial: Denial(claim: "nonce", expected: "the nonce issued to this session", actual: String(attestation.runtimeData.nonce.prefix(64)), reason: "nonce mismatch")))
        }
        do { try JWE.validate(attestation.runtimeData.teePubkey) } catch { throw Refusal(failure: .badRequest(error.description)) }
        let input: EvidenceInput
        do { input = try EvidenceInput(tee: session.tee, primary: attestation.teeEvidence.primaryEvidence) } catch { throw Refusal(failure: error) }
        if let denial = ReportDataBinding.check(reportData: input.reportData, runtimeData: attestation.runtimeData,
                                                additionalEvidence: attestation.teeEvidence.additionalEvidence, hash: session.hash) {
            throw Refusal(failure: .attestationFailed(denial.description, denial: denial))
        }
        let policy: AttestationPolicy
        do { policy = try await store.attestationPolicy() } catch { throw Refusal(failure: .unavailable("policy store unavailable")) }
        return try Self.appraise(input: input, initData: attestation.initData, policy: policy, configuration: configuration, at: now)
    }

    /// Verification and attestation policy for evidence already parsed and bound — the pure
    /// decision, reusable at a pinned time on evidence that binds nothing of ours (real vectors).
    static func appraise(input: EvidenceInput, initData: InitData?, policy: AttestationPolicy, configuration: KBSConfiguration, at time: Date) throws(Refusal) -> Claims {
        var trust = configuration.trust
        if !configuration.devMode { trust.sampleSigners = [] }
        var claims: Claims
        /// The policy's SNP minimum TCB is the verifier's basis for UpToDate (decision 0020).
        switch Verifier.verify(evidence: input.bytes, collateral: input.collateral, at: time, trust: trust, snp: policy.snpVerificationOptions) {
        case .success(let verified): claims = verified
        case .failure(let failure):
            if !configuration.devMode, EvidenceKind.detect(input.bytes) == .sample {
                let denial = Denial(claim: "tee", expected: "hardware-backed evidence (sgx, tdx or snp)", actual: "sample",
                                    reason: "sample evidence is not hardware-backed and is accepted only by a KBS started with --dev")
                throw Refusal(failure: .attestationDenied(denial))
            }
            throw Refusal(failure: .attestationFailed("evidence does not verify: \(failure)",
                denial: Denial(claim: "evidence", expected: "verifies (\(failure.check))", actual: failure.message, reason: "verification failed")))
        }
        if let initData {
            let denial: Denial?
            do { denial = try InitDataBinding.check(initData, claims: claims) } catch { throw Refusal(failure: error, claimsDigest: digest(claims)) }
            if let denial { throw Refusal(failure: .attestationDenied(denial), claimsDigest: digest(claims)) }
            /// Only now, bound: the launch configuration's image id joins the claims (decision 0030).
            do { claims.measurements[InitDataBinding.imageClaim] = try InitDataBinding.imageID(initData) } catch {
                throw Refusal(failure: error, claimsDigest: digest(claims))
            }
        }
        if let denial = policy.evaluate(claims, devMode: configuration.devMode) {
            throw Refusal(failure: .attestationDenied(denial), claimsDigest: digest(claims), imageID: claims.imageID)
        }
        return claims
    }

    /// Policy evaluation of evidence at a pinned time, skipping only the nonce binding: for real
    /// quotes from test vectors (which cannot bind our nonce) and for `coffer kbs` diagnostics.
    public static func appraise(tee: KBSTee, primaryEvidence: JSONValue, initData: InitData? = nil, policy: AttestationPolicy,
                                configuration: KBSConfiguration, at time: Date) -> Result<Claims, KBSFailure> {
        do {
            let input = try EvidenceInput(tee: tee, primary: primaryEvidence)
            return .success(try appraise(input: input, initData: initData, policy: policy, configuration: configuration, at: time))
        } catch let error as Refusal { return .failure(error.failure) } catch let error as KBSFailure { return .failure(error) } catch {
            return .failure(.badRequest("\(error)"))
        }
    }

    private func audit(_ decision: Decision) async {
        try? await store.record(decision)
    }

    /// SHA-256 of the claims as canonical (sorted-key) JSON (what the audit log records).
    static func digest(_ claims: Claims) -> String {
        Hex.encode(SHA256.hash(data: CanonicalJSON.serialize(claims.json)))
    }

    /// From BoringSSL's CSPRNG in one call (a byte at a time was one getrandom(2) per byte).
    static func randomBytes(_ count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }

    static func randomToken(_ count: Int) -> String { Hex.encode(randomBytes(count)) }
}
