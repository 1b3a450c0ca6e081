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

    /// A released resource: the JWE, and the attested tee-pubkey it is encrypted to (which the
    /// response's `ResourceSignature` binds, so the answer cannot be replayed to another boot).
    public struct Release: Sendable {
        public var jwe: JWEResponse
        public var teePubkey: TeePubKey
    }

    /// `GET /resource/{repo}/{type}/{tag}`: the resource as a JWE to the attested tee-pubkey.
    public func resource(_ path: ResourceURI, credential: Credential?, now: Date) async throws(KBSFailure) -> Release {
        let session: String, claims: Claims, key: TeePubKey, digest: String
        switch credential {
        case nil:
            throw .unauthorized("no kbs-session-id cookie or Bearer token: attest first")
        case .session(let id)?:
            let found: Session?
            do { found = try await sessions.get(id, now: now) } catch { throw .unavailable("session store unavailable; retry") }
            guard let live = found, case .attested(let c, let d, let k) = live.state else {
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
                                  action: action, allowed: false, reason: denial.description, denial: denial, imageID: claims.imageID))
            throw .denied(denial)
        }
        let value: [UInt8]?
        do { value = try await store.resource(path.description) } catch { throw .unavailable("resource store unavailable") }
        guard let value else {
            await record(Decision(time: now, session: session, tee: claims.tee.rawValue, claimsDigest: digest,
                                  action: action, allowed: false, reason: "no such resource", imageID: claims.imageID))
            throw .notFound("resource \(path) does not exist")
        }
        let response: JWEResponse
        do { response = try JWE.encrypt(value, to: key) } catch { throw .badRequest(error.description) }
        /// Security: fail closed — a release that cannot be audited does not happen.
        do {
            try await store.record(Decision(time: now, session: session, tee: claims.tee.rawValue, claimsDigest: digest,
                                            action: action, allowed: true, reason: "allowed", imageID: claims.imageID))
        } catch {
            throw .unavailable("audit log unavailable; retry")
        }
        return Release(jwe: response, teePubkey: key)
    }

    /// The `ResourceSignature` (version 2) of a resource response: ES256 by the broker's key over
    /// the body's digest, the path and the tee-pubkey the JWE is for. Security: a response the
    /// broker cannot sign is not sent (a guest would refuse it anyway; an unsigned 200 would only
    /// look like a relay's forgery).
    func signResource(body: [UInt8], path: ResourceURI, teePubkey: TeePubKey) throws(KBSFailure) -> String {
        do { return try ResourceSignature.sign(body: body, resource: path, teePubkey: teePubkey, key: signingKey) } catch {
            throw .unavailable("the resource response could not be signed; retry")
        }
    }

    /// The last decision recorded for a session (`coffer kbs explain`).
    public func lastDecision(session: String) async -> Decision? {
        (try? await store.decisions(session: session, limit: 1))?.first
    }

    private func record(_ decision: Decision) async { try? await store.record(decision) }
}
