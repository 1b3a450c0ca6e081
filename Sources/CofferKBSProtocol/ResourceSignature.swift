import CofferCore
import CofferJSON
import Crypto

/// Version 2 of the broker's `X-Coffer-KBS-Signature` on resource responses (decision 0022 §5):
/// ES256 by the broker's signing key over the RFC 8785 canonical JSON
///
/// ```
/// {"body-sha384":"<hex of SHA-384 of the exact response body>","resource":"repo/type/tag","tee-pubkey":{JWK}}
/// ```
///
/// encoded base64url as `r‖s` (64 bytes). Version 1 signed the body alone, so a relay could swap
/// two resources released in one session (both are JWEs to the same key). Binding the path and
/// the per-boot key as well means a relay that swaps two resources (another path), replays an
/// earlier boot's answer (another key), edits or truncates the body (another digest) or answers
/// in place of the broker (no signing key) is refused before anything is decrypted.
///
/// One home for both sides: the broker signs with `sign`, the guest agent checks with `verify`.
/// The message's encoding is golden-tested (`ResourceSignatureTests`): changing it is a protocol change.
public enum ResourceSignature {
    /// The HTTP header's name.
    public static let header = "X-Coffer-KBS-Signature"

    /// The exact bytes signed.
    public static func message(body: [UInt8], resource: ResourceURI, teePubkey: TeePubKey) -> [UInt8] {
        CanonicalJSON.serialize(.object([
            "body-sha384": .string(Hex.encode(BindingHash.sha384.digest(body))),
            "resource": .string(resource.path),
            "tee-pubkey": teePubkey.json,
        ]))
    }

    /// The header value: base64url of the raw `r‖s` signature.
    public static func sign(body: [UInt8], resource: ResourceURI, teePubkey: TeePubKey, key: P256.Signing.PrivateKey) throws -> String {
        Base64URL.encode(try key.signature(for: message(body: body, resource: resource, teePubkey: teePubkey)).rawRepresentation)
    }

    /// Checks a header value; throws naming what is wrong (absent, malformed, or not the broker's
    /// signature over this body, this resource and this key).
    public static func verify(
        _ signature: String, body: [UInt8], resource: ResourceURI, teePubkey: TeePubKey, key: P256.Signing.PublicKey
    ) throws(KBSProtocolError) {
        guard !signature.isEmpty else {
            throw KBSProtocolError("the response for \(resource.uri) carries no \(header): it is not from the broker the launch trusts")
        }
        guard let raw = Base64URL.decode(signature), raw.count == 64, let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: raw) else {
            throw KBSProtocolError("the \(header) on the response for \(resource.uri) is not a base64url ES256 signature (64 bytes r‖s)")
        }
        guard key.isValidSignature(parsed, for: message(body: body, resource: resource, teePubkey: teePubkey)) else {
            throw KBSProtocolError(
                "the response for \(resource.uri) is not signed by the broker the launch trusts for this resource and this boot's key "
                    + "(swapped, replayed, altered or forged on the way)")
        }
    }
}
