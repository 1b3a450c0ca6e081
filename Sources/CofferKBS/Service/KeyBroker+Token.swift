import CofferVerifier
import Crypto
import Foundation

/// The attestation token: an ES256 JWT by the KBS key carrying the verified claims and the
/// tee-pubkey, so a resource request with `Authorization: Bearer` needs no session state.
extension KeyBroker {
    public struct TokenContents: Sendable, Decodable {
        public var session: String
        public var claims: Claims
        public var teePubkey: TeePubKey
        /// The claims digest computed at attestation, reused by every audit record.
        public var claimsDigest: String

        enum CodingKeys: String, CodingKey { case session = "sid", claims, teePubkey = "tee-pubkey", claimsDigest = "cd" }
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
                "claims": try JSONValue(encoding: claims),
                "tee-pubkey": teePubkey.json,
            ])
            return try CompactJWT.sign(payload: payload, with: signingKey)
        } catch {
            throw Refusal(failure: KBSFailure(status: 503, type: "token", detail: "cannot sign the attestation token"))
        }
    }

    public func verifyToken(_ token: String, now: Date) throws(KBSFailure) -> TokenContents {
        let payload: Data
        do { payload = try CompactJWT.verifiedPayload(token, with: signingKey.publicKey, now: now) } catch {
            throw .unauthorized("attestation token refused: \(error.description); attest again")
        }
        guard let contents = try? JSONDecoder().decode(TokenContents.self, from: payload) else {
            throw .unauthorized("attestation token lacks sid, cd, claims or tee-pubkey")
        }
        return contents
    }
}
