import BigInt
import CofferCore
import CofferEvidence
import Crypto
import Foundation
import _CryptoExtras

/// The SIGSTRUCT's RSA-3072 signature, checked as EINIT checks it (Intel SDM Vol. 3D, 38.14 and
/// the EINIT pseudocode): RSASSA-PKCS1-v1_5 with SHA-256 over the two signed regions, public
/// exponent 3, every value little-endian; and Q1/Q2, the quotients EINIT uses to verify without a
/// division of its own.
///
/// BoringSSL (swift-crypto's `_RSA`) does the RSA and the PKCS#1 v1.5 encoding; it takes exponent 3
/// (decision 0033). Only Q1/Q2 need big-integer arithmetic of Coffer's own, through BigInt.
extension SigStruct {
    /// Throws unless the signature verifies under the SIGSTRUCT's own modulus and Q1/Q2 are the
    /// ones that signature and modulus define.
    ///
    /// Security: MRSIGNER is the modulus's hash, so a SIGSTRUCT whose signature does not verify
    /// would let anyone claim any signer's identity for their enclave; EINIT refuses it, and so
    /// does Coffer before printing a policy that names that signer.
    public func verifySignature() throws(SGXEnclaveError) {
        let modulusBE = Array(modulus.reversed())
        guard modulusBE[0] & 0x80 != 0 else {
            throw .badSignature(detail: "the modulus is not 3072 bits (its top byte is 0x\(String(modulusBE[0], radix: 16)))")
        }
        let key: _RSA.Signing.PublicKey
        do { key = try _RSA.Signing.PublicKey(n: modulusBE, e: [UInt8(Self.exponent)]) } catch {
            throw .badSignature(detail: "the modulus is not a usable RSA-3072 public key (\(error))")
        }
        let rsaSignature = _RSA.Signing.RSASignature(rawRepresentation: Array(signature.reversed()))
        guard key.isValidSignature(rsaSignature, for: SHA256.hash(data: signedBytes), padding: .insecurePKCS1v1_5) else {
            throw .badSignature(detail: "RSA-3072 PKCS#1 v1.5 SHA-256 over bytes 0..<128 and 900..<1028 does not verify under its modulus (MRSIGNER \(Hex.encode(mrSigner)))")
        }
        let expected = Self.quotients(signature: signature, modulus: modulus)
        guard q1 == expected.q1 else { throw .badSignature(detail: "Q1 is not floor(SIGNATURE² / MODULUS): EINIT would refuse it") }
        guard q2 == expected.q2 else { throw .badSignature(detail: "Q2 is not floor((SIGNATURE³ − Q1·SIGNATURE·MODULUS) / MODULUS): EINIT would refuse it") }
    }

    /// Q1 = floor(S² / M) and Q2 = floor((S³ − Q1·S·M) / M), 384 bytes little-endian each
    /// (SDM 38.14, table 38-19). Since S < M both are below M, so 384 bytes hold them.
    public static func quotients(signature: [UInt8], modulus: [UInt8]) -> (q1: [UInt8], q2: [UInt8]) {
        let s = BigUInt(Data(signature.reversed()))
        let m = BigUInt(Data(modulus.reversed()))
        guard !m.isZero else { return (Array(repeating: 0, count: modulusSize), Array(repeating: 0, count: modulusSize)) }
        let (q1, _) = (s * s).quotientAndRemainder(dividingBy: m)
        let (q2, _) = (s * s * s - q1 * s * m).quotientAndRemainder(dividingBy: m)
        return (littleEndian(q1), littleEndian(q2))
    }

    /// `value` as `modulusSize` little-endian bytes (zero-extended; a larger value, which only a
    /// signature not below its modulus gives, keeps its low bytes and fails the comparison).
    static func littleEndian(_ value: BigUInt) -> [UInt8] {
        let bytes = Array(value.serialize().reversed())
        return Array(bytes.prefix(modulusSize)) + Array(repeating: 0, count: max(0, modulusSize - bytes.count))
    }
}
