import Crypto
import _CryptoExtras
import Foundation
import CofferJSON

/// The client's ephemeral key pair (what a guest generates inside its TEE): it exports the
/// `tee-pubkey` JWK and decrypts the KBS's JWE responses.
public struct TEEKeyPair: Sendable {
    /// `_RSA.Encryption.PrivateKey` is immutable but not marked Sendable.
    enum Backing: @unchecked Sendable {
        case ec(P256.KeyAgreement.PrivateKey)
        case rsa(_RSA.Encryption.PrivateKey, alg: String)
    }
    let backing: Backing
    /// The `tee-pubkey` JWK, exported once (it goes into every attest request).
    public let publicKey: TeePubKey

    init(backing: Backing) {
        self.backing = backing
        publicKey = Self.export(backing)
    }

    /// A P-256 key for ECDH-ES+A256KW (fast to generate: the default).
    public static func ec() -> TEEKeyPair { TEEKeyPair(backing: .ec(P256.KeyAgreement.PrivateKey())) }

    /// An RSA-2048 key with `RSA-OAEP-256`, `RSA-OAEP` or `RSA1_5`.
    public static func rsa(alg: String = "RSA-OAEP-256") throws -> TEEKeyPair {
        TEEKeyPair(backing: .rsa(try _RSA.Encryption.PrivateKey(keySize: .bits2048), alg: alg))
    }

    static func export(_ backing: Backing) -> TeePubKey {
        switch backing {
        case .ec(let key):
            let point = Array(key.publicKey.x963Representation)
            return .ec(crv: "P-256", alg: "ECDH-ES+A256KW", x: Base64URL.encode(point[1..<33]), y: Base64URL.encode(point[33..<65]))
        case .rsa(let key, let alg):
            let primitives = (try? key.publicKey.getKeyPrimitives())
            return .rsa(alg: alg, n: Base64URL.encode(primitives?.modulus ?? Data()), e: Base64URL.encode(primitives?.publicExponent ?? Data()))
        }
    }

    public func decrypt(_ response: JWEResponse) throws(JWEError) -> [UInt8] {
        guard let headerBytes = Base64URL.decode(response.protected),
              let header = try? JSONValue.parse(Array(headerBytes)) else { throw .malformed("protected header") }
        guard header["enc"]?.stringValue == "A256GCM" else { throw .malformed("enc must be A256GCM") }
        guard let encryptedKey = Base64URL.decode(response.encryptedKey), let iv = Base64URL.decode(response.iv),
              let ciphertext = Base64URL.decode(response.ciphertext), let tag = Base64URL.decode(response.tag) else {
            throw .malformed("a field is not base64url")
        }
        let cek: SymmetricKey
        do {
            switch backing {
            case .ec(let key):
                guard header["alg"]?.stringValue == "ECDH-ES+A256KW",
                      let x = header["epk"]?["x"]?.stringValue.flatMap(Base64URL.decode),
                      let y = header["epk"]?["y"]?.stringValue.flatMap(Base64URL.decode) else { throw JWEError.malformed("epk") }
                let epk = try P256.KeyAgreement.PublicKey(x963Representation: [0x04] + Array(x) + Array(y))
                let shared = try key.sharedSecretFromKeyAgreement(with: epk)
                cek = try AES.KeyWrap.unwrap(encryptedKey, using: ConcatKDF.derive(shared, algorithm: "ECDH-ES+A256KW", bits: 256))
            case .rsa(let key, let alg):
                guard header["alg"]?.stringValue == alg else { throw JWEError.malformed("alg") }
                let padding: _RSA.Encryption.Padding = alg == "RSA1_5" ? ._WEAK_AND_INSECURE_PKCS_V1_5
                    : alg == "RSA-OAEP" ? .PKCS1_OAEP : .PKCS1_OAEP_SHA256
                cek = SymmetricKey(data: try key.decrypt(encryptedKey, padding: padding))
            }
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: iv), ciphertext: ciphertext, tag: tag)
            return Array(try AES.GCM.open(box, using: cek, authenticating: Array(response.protected.utf8)))
        } catch let error as JWEError { throw error } catch { throw .decryptionFailed }
    }
}
