import Foundation
import SwiftASN1

// The DER decoding behind `AMDCertificate`, kept beside it: TBSCertificate (RFC 5280 4.1) and the
// RSASSA-PSS parameters (RFC 4055 3.1).

/// The fields of TBSCertificate that SEV-SNP verification needs.
struct TBSFields {
    var serial: [UInt8]
    var issuer: [UInt8]
    var subject: [UInt8]
    var issuerCN: String?
    var subjectCN: String?
    var notBefore: Date
    var notAfter: Date
    var spki: [UInt8]
    var extensions: [AMDCertificate.Extension]

    init(_ node: ASN1Node, outerAlgorithm: ASN1Node) throws {
        var fields: TBSFields?
        try DER.sequence(node, identifier: .sequence) { nodes in
            let version = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) {
                try Int(derEncoded: $0)
            }
            guard version == 2 else { throw AMDCertificateError.malformed("not an X.509 v3 certificate") }
            let serial = try ArraySlice<UInt8>(derEncoded: &nodes)
            guard let algorithm = nodes.next(), algorithm.encodedBytes == outerAlgorithm.encodedBytes else {
                /// RFC 5280 4.1.1.2: the signed algorithm must equal the outer one, or an attacker
                /// could relabel how the signature is to be checked.
                throw AMDCertificateError.malformed("TBSCertificate signature algorithm differs from signatureAlgorithm")
            }
            guard let issuer = nodes.next(), let validity = nodes.next(), let subject = nodes.next(),
                let spki = nodes.next()
            else { throw AMDCertificateError.malformed("TBSCertificate is missing fields") }
            let window = try DER.sequence(validity, identifier: .sequence) { times in
                guard let from = times.next(), let to = times.next() else {
                    throw AMDCertificateError.malformed("Validity needs notBefore and notAfter")
                }
                return (try Self.time(from), try Self.time(to))
            }
            _ = try DER.optionalImplicitlyTagged(&nodes, tag: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)) as ASN1BitString?
            _ = try DER.optionalImplicitlyTagged(&nodes, tag: ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)) as ASN1BitString?
            let extensions = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 3, tagClass: .contextSpecific) {
                try Self.children($0)
            } ?? []
            fields = TBSFields(
                serial: Array(serial), issuer: Array(issuer.encodedBytes), subject: Array(subject.encodedBytes),
                issuerCN: try Self.commonName(issuer), subjectCN: try Self.commonName(subject),
                notBefore: window.0, notAfter: window.1, spki: Array(spki.encodedBytes),
                extensions: try extensions.map(Self.certificateExtension))
        }
        guard let fields else { throw AMDCertificateError.malformed("TBSCertificate") }
        self = fields
    }

    private init(
        serial: [UInt8], issuer: [UInt8], subject: [UInt8], issuerCN: String?, subjectCN: String?,
        notBefore: Date, notAfter: Date, spki: [UInt8], extensions: [AMDCertificate.Extension]
    ) {
        self.serial = serial
        self.issuer = issuer
        self.subject = subject
        self.issuerCN = issuerCN
        self.subjectCN = subjectCN
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.spki = spki
        self.extensions = extensions
    }

    /// The elements of a SEQUENCE (OF), undecoded.
    private static func children(_ node: ASN1Node) throws -> [ASN1Node] {
        try DER.sequence(node, identifier: .sequence) { nodes in
            var out: [ASN1Node] = []
            while let next = nodes.next() { out.append(next) }
            return out
        }
    }

    /// Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    private static func certificateExtension(_ node: ASN1Node) throws -> AMDCertificate.Extension {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let critical = try DER.decodeDefault(&nodes, defaultValue: false)
            let value = try ASN1OctetString(derEncoded: &nodes)
            return AMDCertificate.Extension(oid: oid.description, critical: critical, value: Array(value.bytes))
        }
    }

    /// Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue); returns the
    /// first commonName (2.5.4.3) as text, whatever its string type.
    private static func commonName(_ name: ASN1Node) throws -> String? {
        let rdns = try children(name)
        for rdn in rdns {
            guard case .constructed(let attributes) = rdn.content else { throw AMDCertificateError.malformed("Name") }
            for attribute in attributes {
                let pair = try DER.sequence(attribute, identifier: .sequence) { nodes -> (ASN1ObjectIdentifier, ASN1Node)? in
                    let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
                    guard let value = nodes.next() else { return nil }
                    return (oid, value)
                }
                if let (oid, value) = pair, oid == [2, 5, 4, 3], case .primitive(let bytes) = value.content {
                    return String(decoding: bytes, as: UTF8.self)
                }
            }
        }
        return nil
    }

    /// Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }, always UTC in DER.
    private static func time(_ node: ASN1Node) throws -> Date {
        let (year, month, day, hours, minutes, seconds): (Int, Int, Int, Int, Int, Int)
        if node.identifier == .utcTime {
            let t = try UTCTime(derEncoded: node)
            (year, month, day, hours, minutes, seconds) = (t.year, t.month, t.day, t.hours, t.minutes, t.seconds)
        } else {
            let t = try GeneralizedTime(derEncoded: node)
            (year, month, day, hours, minutes, seconds) = (t.year, t.month, t.day, t.hours, t.minutes, t.seconds)
        }
        // Days from 1970-01-01 in the proleptic Gregorian calendar (civil-from-days inverse);
        // swift-asn1 has already range-checked every component, so this cannot overflow.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hours * 3_600 + minutes * 60 + seconds))
    }
}

/// RSASSA-PSS-params, required to be exactly AMD's profile.
enum PSSParameters {
    static let rsassaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 10]
    static let sha384: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 2]
    static let mgf1: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 8]

    /// AlgorithmIdentifier { rsassaPSS, { [0] sha384, [1] mgf1(sha384), [2] 48, [3] 1 (optional) } }.
    ///
    /// swift-crypto's `.PSS` fixes MGF1 to the message hash and the salt to the digest length, so
    /// a certificate naming any other parameters is refused here rather than checked wrongly.
    static func requireAMDProfile(_ node: ASN1Node) throws {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
            guard oid == rsassaPSS else { throw AMDCertificateError.unsupportedSignatureAlgorithm("OID \(oid)") }
            guard let params = nodes.next() else { throw AMDCertificateError.unsupportedSignatureAlgorithm("no parameters") }
            try DER.sequence(params, identifier: .sequence) { fields in
                let hash = try DER.explicitlyTagged(&fields, tagNumber: 0, tagClass: .contextSpecific) { try hashOID($0) }
                let mask = try DER.explicitlyTagged(&fields, tagNumber: 1, tagClass: .contextSpecific) { node in
                    try DER.sequence(node, identifier: .sequence) { mgf -> ASN1ObjectIdentifier in
                        guard try ASN1ObjectIdentifier(derEncoded: &mgf) == mgf1, let inner = mgf.next() else {
                            throw AMDCertificateError.unsupportedSignatureAlgorithm("mask generation is not MGF1")
                        }
                        return try hashOID(inner)
                    }
                }
                let salt = try DER.explicitlyTagged(&fields, tagNumber: 2, tagClass: .contextSpecific) { try Int(derEncoded: $0) }
                let trailer = try DER.optionalExplicitlyTagged(&fields, tagNumber: 3, tagClass: .contextSpecific) {
                    try Int(derEncoded: $0)
                } ?? 1
                guard hash == sha384, mask == sha384, salt == 48, trailer == 1 else {
                    throw AMDCertificateError.unsupportedSignatureAlgorithm("hash \(hash), MGF1 hash \(mask), salt \(salt), trailer \(trailer)")
                }
            }
        }
    }

    /// HashAlgorithm ::= AlgorithmIdentifier with absent or NULL parameters.
    private static func hashOID(_ node: ASN1Node) throws -> ASN1ObjectIdentifier {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
            if let parameters = nodes.next(), parameters.identifier != .null {
                throw AMDCertificateError.unsupportedSignatureAlgorithm("hash parameters must be absent or NULL")
            }
            return oid
        }
    }
}
