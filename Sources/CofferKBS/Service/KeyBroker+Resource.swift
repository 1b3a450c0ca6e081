import CofferKBSProtocol
import CofferVerifier
import Crypto
import Foundation

extension KeyBroker {
    /// How a resource request proves its attestation.
    public enum Credential: Sendable {
        case session(String)
        case token(String)
    }

    /// `GET /resource/{repo}/{type}/{tag}`: the resource as a JWE to the attested tee-pubkey.
    public func resource(_ path: ResourceURI, credential: Credential?, now: Date) async throws(KBSFailure) -> JWEResponse {
        try await release(path, credential: credential, now: now).response
    }

    /// As `resource`, with the tee-pubkey the JWE is for: what the v2 signature binds.
    public func release(_ path: ResourceURI, credential: Credential?, now: Date) async throws(KBSFailure) -> (response: JWEResponse, teePubkey: TeePubKey) {
        let session: String, claims: Claims, key: TeePubKey, digest: String
        switch credential {
        case nil:
            throw .unauthorized("no kbs-session-id cookie or Bearer token: attest first")
        case .session(let id)?:
            guard let live = sessions.get(id, now: now), case .attested(let c, let d, let k) = live.state else {
                throw .unauthorized("session \(id.prefix(40)) is unknown, expired or not attested: attest again")
            }
            (session, claims, key, digest) = (id, c, k, d)
        case .token(let token)?:
            let contents = try verifyToken(token, now: now)
            (session, claims, key, digest) = (contents.session, contents.claims, contents.teePubkey, contents.claimsDigest)
        }
        let action = "resource \(path)"
        let policy: ResourcePolicy
        do { policy = try await store.resourcePolicy() } catch { throw .unavailable("policy store unavailable") }
        if let denial = policy.evaluate(path: path.description, claims: claims) {
            await record(Decision(time: now, session: session, tee: claims.tee.rawValue, claimsDigest: digest,
                                  action: action, allowed: false, reason: denial.description, denial: denial))
            throw .denied(denial)
        }
        let value: [UInt8]?
        do { value = try await store.resource(path.description) } catch { throw .unavailable("resource store unavailable") }
        guard let value else {
            await record(Decision(time: now, session: session, tee: claims.tee.rawValue, claimsDigest: digest,
                                  action: action, allowed: false, reason: "no such resource"))
            throw .notFound("resource \(path) does not exist")
        }
        let response: JWEResponse
        do { response = try JWE.encrypt(value, to: key) } catch { throw .badRequest(error.description) }
        /// Security: fail closed — a release that cannot be audited does not happen.
        do {
            try await store.record(Decision(time: now, session: session, tee: claims.tee.rawValue, claimsDigest: digest,
                                            action: action, allowed: true, reason: "allowed"))
        } catch {
            throw .unavailable("audit log unavailable; retry")
        }
        return (response, key)
    }

    /// The v2 `X-Coffer-KBS-Signature` (`ResourceSignature`): the body's digest, the resource
    /// path and the tee-pubkey, so an answer cannot be swapped, replayed to another boot or altered.
    public func signResource(_ body: [UInt8], resource: ResourceURI, teePubkey: TeePubKey) -> String {
        (try? ResourceSignature.sign(body: body, resource: resource, teePubkey: teePubkey, key: signingKey)) ?? ""
    }

    /// The signature header on resource responses: ES256 by the KBS key over the exact body,
    /// base64url r‖s. A workload that measured the KBS public key rejects a relay's forgery.
    public func signBody(_ body: [UInt8]) -> String {
        guard let signature = try? signingKey.signature(for: body) else { return "" }
        return Base64URL.encode(signature.rawRepresentation)
    }

    public static func verifyBodySignature(_ signature: String, body: [UInt8], key: P256.Signing.PublicKey) -> Bool {
        guard let raw = Base64URL.decode(signature), let sig = try? P256.Signing.ECDSASignature(rawRepresentation: raw) else { return false }
        return key.isValidSignature(sig, for: body)
    }

    /// The last decision recorded for a session (`coffer kbs explain`).
    public func lastDecision(session: String) async -> Decision? {
        (try? await store.decisions(session: session, limit: 1))?.first
    }

    private func record(_ decision: Decision) async { try? await store.record(decision) }
}
