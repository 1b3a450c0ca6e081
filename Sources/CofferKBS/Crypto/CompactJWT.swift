import Crypto
import Foundation
import CofferJSON

/// A compact JWS with ES256 (RFC 7515, RFC 7518 §3.4: the signature is r‖s, 64 bytes). Used for
/// the attestation token the KBS issues and the admin bearer tokens it accepts.
public enum CompactJWT {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed(String)
        case badSignature
        case expired
        public var description: String {
            switch self {
            case .malformed(let why): "malformed token: \(why)"
            case .badSignature: "token signature does not verify"
            case .expired: "token expired"
            }
        }
    }

    public static func sign(payload: JSONValue, with key: P256.Signing.PrivateKey) throws -> String {
        let header = Array(#"{"alg":"ES256","typ":"JWT"}"#.utf8)
        let body = CanonicalJSON.serialize(payload)
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(body)
        let signature = try key.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// Verifies the signature and `exp` (seconds since 1970) against `now`; returns the payload.
    public static func verify(_ token: String, with key: P256.Signing.PublicKey, now: Date) throws(Failure) -> JSONValue {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count < 64 * 1024 else { throw .malformed("expected three dot-separated parts") }
        guard let headerBytes = Base64URL.decode(String(parts[0])),
              let header = try? JSONValue.parse(Array(headerBytes)) else { throw .malformed("header is not base64url JSON") }
        /// Security: only ES256 is accepted, so "alg": "none" or an HMAC keyed with the public key
        /// cannot be substituted.
        guard header["alg"]?.stringValue == "ES256" else { throw .malformed("alg must be ES256") }
        guard let signatureBytes = Base64URL.decode(String(parts[2])),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes) else { throw .malformed("signature is not 64 bytes of base64url") }
        guard key.isValidSignature(signature, for: Array("\(parts[0]).\(parts[1])".utf8)) else { throw .badSignature }
        guard let payloadBytes = Base64URL.decode(String(parts[1])), let payload = try? JSONValue.parse(Array(payloadBytes)) else {
            throw .malformed("payload is not base64url JSON")
        }
        guard let exp = payload["exp"]?.doubleValue else { throw .malformed("payload has no numeric exp") }
        guard now.timeIntervalSince1970 < exp else { throw .expired }
        return payload
    }
}
