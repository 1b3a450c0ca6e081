import CofferCore
import CofferEvidence
import Crypto
import Foundation
import _CryptoExtras

/// An enclave signer's key: RSA-3072 with public exponent 3, the only kind EINIT accepts.
public struct SGXSigningKey: Sendable {
    let key: _RSA.Signing.PrivateKey
    /// The modulus, 384 bytes little-endian, as SIGSTRUCT.MODULUS holds it.
    public let modulus: [UInt8]

    /// A PEM private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`, unencrypted), such as
    /// `openssl genrsa -3 3072` writes. Any other size or exponent is refused naming what it is.
    public init(pemRepresentation pem: String) throws(SGXEnclaveError) {
        do {
            // `unsafe`: swift-crypto refuses keys below 2048 bits with a bare error; Coffer refuses
            // everything but 3072 below, saying what the key is.
            key = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem)
        } catch {
            throw .unusableKey(detail: "not an unencrypted PEM RSA private key (\(error)); make one with `openssl genrsa -3 3072`")
        }
        guard key.keySizeInBits == 3072 else {
            throw .unusableKey(detail: "RSA-\(key.keySizeInBits): SGX requires RSA-3072 (`openssl genrsa -3 3072`)")
        }
        let primitives: _RSA.Signing.PublicKey.Primitives
        do { primitives = try key.publicKey.getKeyPrimitives() } catch { throw .unusableKey(detail: "its public numbers cannot be read (\(error))") }
        let exponent = Array(primitives.publicExponent.drop(while: { $0 == 0 }))
        guard exponent == [UInt8(SigStruct.exponent)] else {
            throw .unusableKey(detail: "public exponent 0x\(Hex.encode(exponent)): SGX requires exponent 3 (`openssl genrsa -3 3072`)")
        }
        let modulusBE = Array(primitives.modulus.drop(while: { $0 == 0 }))
        modulus = Array(modulusBE.reversed())
    }
}

extension SigStruct {
    /// Sets MODULUS, SIGNATURE, Q1 and Q2: `key` signs the regions the other fields fill (set
    /// ENCLAVEHASH and the rest first). The result passes `verifySignature()`.
    public mutating func sign(with key: SGXSigningKey) throws(SGXEnclaveError) {
        modulus = key.modulus
        let raw: Data
        do { raw = try key.key.signature(for: SHA256.hash(data: signedBytes), padding: .insecurePKCS1v1_5).rawRepresentation } catch {
            throw .unusableKey(detail: "signing failed (\(error))")
        }
        signature = Array(raw.reversed()) + Array(repeating: 0, count: max(0, Self.modulusSize - raw.count))
        (q1, q2) = Self.quotients(signature: signature, modulus: modulus)
    }
}
