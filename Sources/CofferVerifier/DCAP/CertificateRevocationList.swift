import Crypto
import SwiftASN1
import X509

/// An X.509 v2 CRL as Intel PCS issues them (Intel SGX Root CA CRL, PCK Processor/Platform CA CRL).
///
/// RFC 5280 §5.1: CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue };
/// TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name,
/// thisUpdate Time, nextUpdate Time OPTIONAL, revokedCertificates SEQUENCE OF SEQUENCE {
/// userCertificate INTEGER, revocationDate Time, crlEntryExtensions OPTIONAL } OPTIONAL,
/// crlExtensions [0] EXPLICIT OPTIONAL }. swift-certificates has no CRL type, so it is decoded
/// with swift-asn1 here and its ECDSA signature checked with swift-crypto.
struct CertificateRevocationList: Sendable {
    /// ecdsa-with-SHA256, the only algorithm Intel signs its CRLs with.
    static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]

    var tbsBytes: [UInt8]
    var issuer: DistinguishedName
    var thisUpdate: Int64
    var nextUpdate: Int64?
    /// Revoked serial numbers, minimal big-endian (no leading zero bytes).
    var revokedSerials: Set<[UInt8]>
    /// The signature value, DER ECDSA-Sig-Value.
    var signature: [UInt8]

    struct Malformed: Error, CustomStringConvertible {
        var detail: String
        var description: String { detail }
    }

    init(derEncoded bytes: [UInt8]) throws {
        let root = try DER.parse(bytes)
        guard case .constructed(let parts) = root.content else { throw Malformed(detail: "not a SEQUENCE") }
        var top = parts.makeIterator()
        guard let tbs = top.next(), let algorithm = top.next(), let signatureNode = top.next() else {
            throw Malformed(detail: "CertificateList needs tbsCertList, signatureAlgorithm, signatureValue")
        }
        guard try Self.algorithm(algorithm) == Self.ecdsaWithSHA256 else {
            throw Malformed(detail: "signature algorithm is not ecdsa-with-SHA256")
        }
        signature = Array(try ASN1BitString(derEncoded: signatureNode).bytes)
        tbsBytes = Array(tbs.encodedBytes)

        guard case .constructed(let tbsParts) = tbs.content else { throw Malformed(detail: "tbsCertList is not a SEQUENCE") }
        var fields = tbsParts.makeIterator()
        var node = fields.next()
        if let version = node, version.identifier == .integer { node = fields.next() }
        guard let innerAlgorithm = node, try Self.algorithm(innerAlgorithm) == Self.ecdsaWithSHA256 else {
            throw Malformed(detail: "tbsCertList.signature is not ecdsa-with-SHA256")
        }
        guard let issuerNode = fields.next() else { throw Malformed(detail: "missing issuer") }
        issuer = try DistinguishedName(derEncoded: issuerNode)
        guard let thisNode = fields.next() else { throw Malformed(detail: "missing thisUpdate") }
        thisUpdate = try IntelTimestamp.seconds(thisNode)
        node = fields.next()
        nextUpdate = nil
        if let next = node, next.identifier == .utcTime || next.identifier == .generalizedTime {
            nextUpdate = try IntelTimestamp.seconds(next)
            node = fields.next()
        }
        var serials = Set<[UInt8]>()
        if let list = node, list.identifier == .sequence, case .constructed(let entries) = list.content {
            for entry in entries {
                guard case .constructed(let entryParts) = entry.content,
                      let serialNode = entryParts.first(where: { _ in true })
                else { throw Malformed(detail: "revoked certificate entry is not a SEQUENCE") }
                serials.insert(Self.minimal(Array(try ArraySlice<UInt8>(derEncoded: serialNode))))
            }
        }
        revokedSerials = serials
    }

    private static func algorithm(_ node: ASN1Node) throws -> ASN1ObjectIdentifier {
        guard case .constructed(let parts) = node.content, let oid = parts.first(where: { _ in true }) else {
            throw Malformed(detail: "AlgorithmIdentifier is not a SEQUENCE")
        }
        return try ASN1ObjectIdentifier(derEncoded: oid)
    }

    static func minimal(_ serial: [UInt8]) -> [UInt8] {
        Array(serial.drop(while: { $0 == 0 }))
    }

    /// True when `issuerCertificate`'s P-256 key signed this CRL.
    func isSigned(by issuerCertificate: Certificate) -> Bool {
        guard let key = P256.Signing.PublicKey(issuerCertificate.publicKey),
              let ecdsa = try? P256.Signing.ECDSASignature(derRepresentation: signature)
        else { return false }
        return key.isValidSignature(ecdsa, for: tbsBytes)
    }

    func revokes(_ certificate: Certificate) -> Bool {
        revokedSerials.contains(Self.minimal(Array(certificate.serialNumber.bytes)))
    }
}
