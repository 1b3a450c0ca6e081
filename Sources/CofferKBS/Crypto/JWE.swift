import Crypto
import _CryptoExtras
import Foundation
import CofferJSON
import CofferKBSProtocol

/// The broker's side of JWE (`JWE` and the EC decrypt side are in CofferKBSProtocol): encryption
/// to the TEE public key (RFC 7516/7518), content always A256GCM with the
/// protected header's base64url as AAD. Key management: RSA1_5, RSA-OAEP, RSA-OAEP-256, or
/// ECDH-ES+A256KW on P-256 — the algorithms guest-components' `crypto` crate can decrypt.
extension JWE {
    public static let supportedAlgorithms = ["RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "ECDH-ES+A256KW"]

    /// Checks a tee-pubkey can be encrypted to, before a session is marked attested.
    public static func validate(_ key: TeePubKey) throws(JWEError) {
        _ = try Recipient(key)
    }

    public static func encrypt(_ plaintext: [UInt8], to key: TeePubKey) throws(JWEError) -> JWEResponse {
        let recipient = try Recipient(key)
        let cek = SymmetricKey(size: .bits256)
        var header: [String: JSONValue] = ["alg": .string(key.alg), "enc": .string("A256GCM")]
        let encryptedKey: [UInt8]
        do {
            switch recipient {
            case .rsa(let publicKey, let padding):
                encryptedKey = Array(try publicKey.encrypt(cek.withUnsafeBytes { Data($0) }, padding: padding))
            case .ec(let publicKey):
                let ephemeral = EphemeralKey.make()
                let shared = try ephemeral.sharedSecretFromKeyAgreement(with: publicKey)
                let kek = ConcatKDF.derive(shared, algorithm: key.alg, bits: 256)
                encryptedKey = Array(try AES.KeyWrap.wrap(cek, using: kek))
                let point = Array(ephemeral.publicKey.x963Representation)
                header["epk"] = .object(["kty": .string("EC"), "crv": .string("P-256"),
                                         "x": .string(Base64URL.encode(point[1..<33])), "y": .string(Base64URL.encode(point[33..<65]))])
            }
        } catch { throw .unsupportedKey("encryption failed: \(error)") }
        let protected = Base64URL.encode(CanonicalJSON.serialize(.object(header)))
        do {
            let sealed = try AES.GCM.seal(plaintext, using: cek, authenticating: Array(protected.utf8))
            return JWEResponse(protected: protected, encryptedKey: Base64URL.encode(encryptedKey),
                               iv: Base64URL.encode(Array(sealed.nonce)), ciphertext: Base64URL.encode(sealed.ciphertext),
                               tag: Base64URL.encode(sealed.tag))
        } catch { throw .malformed("AES-GCM failed: \(error)") }
    }

    private enum Recipient {
        case rsa(_RSA.Encryption.PublicKey, _RSA.Encryption.Padding)
        case ec(P256.KeyAgreement.PublicKey)

        init(_ key: TeePubKey) throws(JWEError) {
            switch key {
            case .rsa(let alg, let n, let e):
                let padding: _RSA.Encryption.Padding
                switch alg {
                case "RSA1_5": padding = ._WEAK_AND_INSECURE_PKCS_V1_5
                case "RSA-OAEP": padding = .PKCS1_OAEP
                case "RSA-OAEP-256": padding = .PKCS1_OAEP_SHA256
                default: throw .unsupportedKey("RSA alg \(alg) (use RSA-OAEP-256, RSA-OAEP or RSA1_5)")
                }
                guard let nBytes = Base64URL.decode(n), let eBytes = Base64URL.decode(e),
                      let publicKey = try? _RSA.Encryption.PublicKey(n: nBytes, e: eBytes) else {
                    throw .unsupportedKey("RSA n/e are not a valid base64url public key")
                }
                /// Security: short RSA keys would let a relay factor the key and read the secret.
                guard publicKey.keySizeInBits >= 2048 else { throw .unsupportedKey("RSA key is \(publicKey.keySizeInBits) bits (2048 or more)") }
                self = .rsa(publicKey, padding)
            case .ec(let crv, let alg, let x, let y):
                guard crv == "P-256" else { throw .unsupportedKey("EC curve \(crv) (P-256 only)") }
                guard alg == "ECDH-ES+A256KW" else { throw .unsupportedKey("EC alg \(alg) (ECDH-ES+A256KW only)") }
                guard let xb = Base64URL.decode(x), let yb = Base64URL.decode(y), xb.count == 32, yb.count == 32,
                      let publicKey = try? P256.KeyAgreement.PublicKey(x963Representation: [0x04] + xb + yb) else {
                    throw .unsupportedKey("EC x/y are not a P-256 point")
                }
                self = .ec(publicKey)
            }
        }
    }
}

/// The JWE's ephemeral ECDH-ES key: a fresh uniformly random P-256 scalar for every JWE.
///
/// `P256.KeyAgreement.PrivateKey()` also runs BoringSSL's FIPS pairwise-consistency self-test
/// (`EC_KEY_check_fips`: recompute the public key, then an ECDSA sign and verify with the new key),
/// which cost more than the ECDH itself — about a tenth of the server's CPU per handshake. That
/// test guards a key pair kept for later use against a faulty computation; this key is used for
/// one agreement and dropped, and a wrong public key would only make the JWE undecryptable (the
/// client's AES key unwrap fails its integrity check), never leak the secret. The scalar is drawn
/// like BoringSSL's own key generation draws it, by rejection: 32 bytes from the system CSPRNG
/// (getrandom, through `SymmetricKey`), redrawn if zero or not below the group order
/// (`EC_KEY_set_private_key` refuses both; the chance is about 2^-32), so it is uniform on
/// [1, n-1]; the public key is the scalar times the generator.
enum EphemeralKey {
    static func make() -> P256.KeyAgreement.PrivateKey {
        while true {
            let scalar = SymmetricKey(size: .bits256)
            if let key = try? scalar.withUnsafeBytes({ try P256.KeyAgreement.PrivateKey(rawRepresentation: $0) }) { return key }
        }
    }
}
