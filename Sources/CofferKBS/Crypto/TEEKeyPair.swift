import Crypto
import _CryptoExtras
import Foundation
import CofferJSON
import CofferKBSProtocol

/// The client's ephemeral key pair (what a guest generates inside its TEE): it exports the
/// `tee-pubkey` JWK and decrypts the KBS's JWE responses. The P-256 half is the protocol module's
/// (`TeePubKey(p256:)`, `JWE.decrypt(_:with:)`); RSA needs `_CryptoExtras`, so it is here.
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
            return TeePubKey(p256: key.publicKey)
        case .rsa(let key, let alg):
            let primitives = (try? key.publicKey.getKeyPrimitives())
            return .rsa(alg: alg, n: Base64URL.encode(primitives?.modulus ?? Data()), e: Base64URL.encode(primitives?.publicExponent ?? Data()))
        }
    }

    public func decrypt(_ response: JWEResponse) throws(JWEError) -> [UInt8] {
        switch backing {
        case .ec(let key):
            return try JWE.decrypt(response, with: key)
        case .rsa(let key, let alg):
            let parts = try JWE.Parts(response)
            guard parts.header["alg"]?.stringValue == alg else { throw .malformed("alg") }
            let padding: _RSA.Encryption.Padding = alg == "RSA1_5" ? ._WEAK_AND_INSECURE_PKCS_V1_5
                : alg == "RSA-OAEP" ? .PKCS1_OAEP : .PKCS1_OAEP_SHA256
            guard let cek = try? key.decrypt(parts.encryptedKey, padding: padding) else { throw .decryptionFailed }
            return try parts.open(with: SymmetricKey(data: cek))
        }
    }
}
