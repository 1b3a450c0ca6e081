import CofferVerifier
import Crypto
import Foundation

/// The attestation token: an ES256 JWT by the KBS key carrying the verified claims and the
/// tee-pubkey, so a resource request with `Authorization: Bearer` needs no session state.
extension KeyBroker {
    public struct TokenContents: Sendable {
        public var session: String
        public var claims: Claims
        public var teePubkey: TeePubKey
    }

    func issueToken(session: String, claims: Claims, teePubkey: TeePubKey, now: Date) throws(Refusal) -> String {
        do {
            let payload: JSONValue = .object([
                "iss": .string("coffer-kbs"),
                "iat": .number(now.timeIntervalSince1970.rounded(.down)),
                "exp": .number((now.timeIntervalSince1970 + configuration.tokenLifetime).rounded(.down)),
                "sid": .string(session),
                "tee": .string(claims.tee.rawValue),
                "claims": try JSONValue(encoding: claims),
                "tee-pubkey": teePubkey.json,
            ])
            return try CompactJWT.sign(payload: payload, with: signingKey)
        } catch {
            throw Refusal(failure: KBSFailure(status: 503, type: "token", detail: "cannot sign the attestation token"))
        }
    }

    public func verifyToken(_ token: String, now: Date) throws(KBSFailure) -> TokenContents {
        let payload: JSONValue
        do { payload = try CompactJWT.verify(token, with: signingKey.publicKey, now: now) } catch {
            throw .unauthorized("attestation token refused: \(error.description); attest again")
        }
        guard let session = payload["sid"]?.stringValue, let claimsJSON = payload["claims"], let keyJSON = payload["tee-pubkey"],
              let claims = try? JSONDecoder().decode(Claims.self, from: JSONEncoder().encode(claimsJSON)),
              let key = try? JSONDecoder().decode(TeePubKey.self, from: JSONEncoder().encode(keyJSON)) else {
            throw .unauthorized("attestation token lacks sid, claims or tee-pubkey")
        }
        return TokenContents(session: session, claims: claims, teePubkey: key)
    }
}
