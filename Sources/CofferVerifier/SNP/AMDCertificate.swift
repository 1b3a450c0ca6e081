import Crypto
import Foundation
import SwiftASN1
import _CryptoExtras

/// An AMD Key Distribution Service certificate — ARK, ASK, ASVK, VCEK or VLEK — decoded with
/// swift-asn1 and checked with swift-crypto.
///
/// AMD signs these with RSASSA-PSS (OID 1.2.840.113549.1.1.10, SHA-384, MGF1-SHA-384, salt 48),
/// which swift-certificates refuses at parse time, so this is the one place Coffer reads X.509
/// for SEV-SNP (RFC 5280 section 4.1; PSS parameters per RFC 4055 section 3.1). It decodes only
/// what verification needs and rejects every other signature algorithm.
public struct AMDCertificate: Sendable, Hashable {
    public struct Extension: Sendable, Hashable {
        public var oid: String
        public var critical: Bool
        /// The content of extnValue (the OCTET STRING's bytes).
        public var value: [UInt8]
    }

    /// The whole certificate as given.
    public let der: [UInt8]
    /// The DER bytes of TBSCertificate: what the issuer signed.
    public let tbsCertificate: [UInt8]
    /// The serial number's content octets (big-endian two's complement).
    public let serialNumber: [UInt8]
    /// The DER bytes of the issuer and subject Names; chaining compares these exactly.
    public let issuer: [UInt8]
    public let subject: [UInt8]
    /// The subject's and issuer's commonName, for messages and role checks (nil when absent).
    public let subjectCommonName: String?
    public let issuerCommonName: String?
    public let notBefore: Date
    public let notAfter: Date
    /// The DER bytes of SubjectPublicKeyInfo.
    public let subjectPublicKeyInfo: [UInt8]
    public let extensions: [Extension]
    /// The signature value (BIT STRING content, no unused bits).
    public let signature: [UInt8]

    /// Decodes one DER certificate; throws unless it is X.509 v3 signed with AMD's RSA-PSS profile.
    public init(derEncoded der: [UInt8]) throws(AMDCertificateError) {
        do {
            let root = try DER.parse(der)
            let parts = try DER.sequence(root, identifier: .sequence) { nodes in
                guard let tbs = nodes.next(), let algorithm = nodes.next(), let signature = nodes.next() else {
                    throw AMDCertificateError.malformed("Certificate is not SEQUENCE { tbsCertificate, signatureAlgorithm, signature }")
                }
                return (tbs, algorithm, try ASN1BitString(derEncoded: signature))
            }
            try PSSParameters.requireAMDProfile(parts.1)
            guard parts.2.paddingBits == 0 else { throw AMDCertificateError.malformed("signature BIT STRING has unused bits") }
            self.der = der
            tbsCertificate = Array(parts.0.encodedBytes)
            signature = Array(parts.2.bytes)
            let tbs = try TBSFields(parts.0, outerAlgorithm: parts.1)
            serialNumber = tbs.serial
            issuer = tbs.issuer
            subject = tbs.subject
            issuerCommonName = tbs.issuerCN
            subjectCommonName = tbs.subjectCN
            notBefore = tbs.notBefore
            notAfter = tbs.notAfter
            subjectPublicKeyInfo = tbs.spki
            extensions = tbs.extensions
        } catch let error as AMDCertificateError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// Decodes every certificate of a PEM text, in order.
    public static func certificates(pem: String) throws(AMDCertificateError) -> [AMDCertificate] {
        let documents: [PEMDocument]
        do { documents = try PEMDocument.parseMultiple(pemString: pem) } catch { throw .malformed("PEM: \(error)") }
        var out: [AMDCertificate] = []
        for document in documents where document.discriminator == "CERTIFICATE" {
            out.append(try AMDCertificate(derEncoded: document.derBytes))
        }
        return out
    }

    /// SHA-256 of SubjectPublicKeyInfo: how Coffer pins an AMD root key.
    public var subjectPublicKeyInfoSHA256: [UInt8] { Array(SHA256.hash(data: subjectPublicKeyInfo)) }

    /// Whether `issuer`'s RSA key signed this certificate with RSASSA-PSS, SHA-384, salt 48.
    ///
    /// swift-crypto's `.PSS` padding uses MGF1 with the digest's hash and a salt as long as the
    /// digest: for SHA-384 that is exactly AMD's profile, which the decoder already required.
    public func isSigned(by issuer: AMDCertificate) -> Bool {
        guard let key = try? _RSA.Signing.PublicKey(derRepresentation: issuer.subjectPublicKeyInfo) else { return false }
        let digest = SHA384.hash(data: tbsCertificate)
        return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .PSS)
    }

    /// Whether `date` lies inside notBefore...notAfter.
    public func isValid(at date: Date) -> Bool { notBefore <= date && date <= notAfter }

    public func `extension`(_ oid: String) -> Extension? { extensions.first { $0.oid == oid } }
}

/// Why bytes are not an AMD certificate Coffer accepts.
public enum AMDCertificateError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupportedSignatureAlgorithm(String)

    public var description: String {
        switch self {
        case .malformed(let reason): "AMD certificate is malformed: \(reason)"
        case .unsupportedSignatureAlgorithm(let reason):
            "AMD certificate signature algorithm is not RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48: \(reason)"
        }
    }
}
