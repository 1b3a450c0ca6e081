import CofferVerifier
import Crypto
import Foundation
import CofferJSON

/// The attestation token: an ES256 JWT by the KBS key carrying the verified claims and the
/// tee-pubkey, so a resource request with `Authorization: Bearer` needs no session state.
extension KeyBroker {
    public struct TokenContents: Sendable {
        public var session: String
        public var claims: Claims
        public var teePubkey: TeePubKey
        /// The claims digest computed at attestation, reused by every audit record.
        public var claimsDigest: String
    }

    func issueToken(session: String, claims: Claims, claimsDigest: String, teePubkey: TeePubKey, now: Date) throws(Refusal) -> String {
        do {
            let payload: JSONValue = .object([
                "iss": .string("coffer-kbs"),
                "iat": .number(now.timeIntervalSince1970.rounded(.down)),
                "exp": .number((now.timeIntervalSince1970 + configuration.tokenLifetime).rounded(.down)),
                "sid": .string(session),
                "cd": .string(claimsDigest),
                "tee": .string(claims.tee.rawValue),
                "claims": claims.json,
                "tee-pubkey": teePubkey.json,
            ])
            return try CompactJWT.sign(payload: payload, with: signingKey)
        } catch {
            throw Refusal(failure: KBSFailure(status: 503, kind: "TokenSigning", detail: "cannot sign the attestation token"))
        }
    }

    public func verifyToken(_ token: String, now: Date) throws(KBSFailure) -> TokenContents {
        let payload: JSONValue
        do { payload = try CompactJWT.verify(token, with: signingKey.publicKey, now: now) } catch {
            throw .badToken("attestation token refused: \(error.description); attest again")
        }
        guard let session = payload["sid"]?.stringValue, let digest = payload["cd"]?.stringValue,
              let claims = payload["claims"].flatMap(Claims.init(json:)), let key = payload["tee-pubkey"],
              let teePubkey = try? TeePubKey(json: key, path: "tee-pubkey") else {
            throw .badToken("attestation token lacks sid, cd, claims or tee-pubkey")
        }
        return TokenContents(session: session, claims: claims, teePubkey: teePubkey, claimsDigest: digest)
    }
}
