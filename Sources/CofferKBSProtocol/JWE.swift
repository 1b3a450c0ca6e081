import Crypto
import CofferJSON

/// The flattened JWE JSON serialisation a resource is returned in (`kbs-types` `Response`).
public struct JWEResponse: Codable, Sendable, Equatable {
    public var protected: String
    public var encryptedKey: String
    public var iv: String
    public var ciphertext: String
    public var tag: String

    public init(protected: String, encryptedKey: String, iv: String, ciphertext: String, tag: String) {
        self.protected = protected
        self.encryptedKey = encryptedKey
        self.iv = iv
        self.ciphertext = ciphertext
        self.tag = tag
    }

    enum CodingKeys: String, CodingKey { case protected, encryptedKey = "encrypted_key", iv, ciphertext, tag }
}

/// Why a JWE could not be made or opened. Its own enum (not `KBSProtocolError`): callers and
/// tests tell a JWE that does not open (`decryptionFailed`) from a malformed one.
public enum JWEError: Error, Sendable, Equatable, CustomStringConvertible {
    case unsupportedKey(String)
    case malformed(String)
    case decryptionFailed
    public var description: String {
        switch self {
        case .unsupportedKey(let why): "tee-pubkey not usable: \(why)"
        case .malformed(let why): "malformed JWE: \(why)"
        case .decryptionFailed: "JWE does not decrypt with this key"
        }
    }
}

/// JWE (RFC 7516/7518) as the broker returns resources: content always A256GCM with the
/// protected header's base64url as AAD. This module holds the client's side for a P-256 TEE key
/// (ECDH-ES+A256KW), which needs only swift-crypto; the broker's encrypt side and the RSA key
/// management (`_CryptoExtras`) are CofferKBS's.
public enum JWE {
    /// A JWE's fields decoded: the protected header and the raw bytes of the others.
    package struct Parts {
        package let header: JSONValue
        package let encryptedKey: [UInt8]
        package let iv: [UInt8]
        package let ciphertext: [UInt8]
        package let tag: [UInt8]
        package let aad: [UInt8]

        package init(_ response: JWEResponse) throws(JWEError) {
            guard let headerBytes = Base64URL.decode(response.protected),
                  let header = try? JSONValue.parse(headerBytes) else { throw .malformed("protected header") }
            guard header["enc"]?.stringValue == "A256GCM" else { throw .malformed("enc must be A256GCM") }
            guard let encryptedKey = Base64URL.decode(response.encryptedKey), let iv = Base64URL.decode(response.iv),
                  let ciphertext = Base64URL.decode(response.ciphertext), let tag = Base64URL.decode(response.tag) else {
                throw .malformed("a field is not base64url")
            }
            self.header = header
            self.encryptedKey = encryptedKey
            self.iv = iv
            self.ciphertext = ciphertext
            self.tag = tag
            aad = Array(response.protected.utf8)
        }

        /// Opens the A256GCM content with the content-encryption key; the tag covers the header.
        package func open(with cek: SymmetricKey) throws(JWEError) -> [UInt8] {
            do {
                let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: iv), ciphertext: ciphertext, tag: tag)
                return Array(try AES.GCM.open(box, using: cek, authenticating: aad))
            } catch { throw .decryptionFailed }
        }
    }

    /// Decrypts a JWE made to `key`'s public half with ECDH-ES+A256KW: the header's `epk` agreed
    /// with `key`, the Concat KDF, AES key unwrap, then A256GCM. A tampered header, key, IV,
    /// ciphertext or tag, or a JWE for another key, is `decryptionFailed`.
    public static func decrypt(_ response: JWEResponse, with key: P256.KeyAgreement.PrivateKey) throws(JWEError) -> [UInt8] {
        let parts = try Parts(response)
        guard parts.header["alg"]?.stringValue == "ECDH-ES+A256KW" else { throw .malformed("alg must be ECDH-ES+A256KW for an EC key") }
        guard let x = parts.header["epk"]?["x"]?.stringValue.flatMap(Base64URL.decode),
              let y = parts.header["epk"]?["y"]?.stringValue.flatMap(Base64URL.decode), x.count == 32, y.count == 32,
              let epk = try? P256.KeyAgreement.PublicKey(x963Representation: [0x04] + x + y) else { throw .malformed("epk is not a P-256 point") }
        let cek: SymmetricKey
        do {
            let shared = try key.sharedSecretFromKeyAgreement(with: epk)
            cek = try AES.KeyWrap.unwrap(parts.encryptedKey, using: ConcatKDF.derive(shared, algorithm: "ECDH-ES+A256KW", bits: 256))
        } catch { throw .decryptionFailed }
        return try parts.open(with: cek)
    }
}

extension TeePubKey {
    /// The `tee-pubkey` JWK of a P-256 key for ECDH-ES+A256KW (what a client sends in `attest`).
    public init(p256 key: P256.KeyAgreement.PublicKey) {
        let point = Array(key.x963Representation)
        self = .ec(crv: "P-256", alg: "ECDH-ES+A256KW", x: Base64URL.encode(point[1..<33]), y: Base64URL.encode(point[33..<65]))
    }
}

/// The Concat KDF of RFC 7518 §4.6.2 (NIST SP 800-56A §5.8.1) for ECDH-ES, one SHA-256 round:
/// SHA-256(counter 1 ‖ Z ‖ len‖AlgorithmID ‖ len‖PartyUInfo ‖ len‖PartyVInfo ‖ keydatalen).
/// swift-crypto offers only X9.63 and HKDF, so this wires its SHA-256 in the standard's order.
package enum ConcatKDF {
    package static func derive(_ secret: SharedSecret, algorithm: String, bits: Int) -> SymmetricKey {
        func lengthPrefixed(_ bytes: [UInt8]) -> [UInt8] { bigEndian32(bytes.count) + bytes }
        func bigEndian32(_ value: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).bigEndian, Array.init) }
        var input = bigEndian32(1)
        secret.withUnsafeBytes { input += Array($0) }
        input += lengthPrefixed(Array(algorithm.utf8)) + lengthPrefixed([]) + lengthPrefixed([]) + bigEndian32(bits)
        return SymmetricKey(data: Array(SHA256.hash(data: input)))
    }
}
