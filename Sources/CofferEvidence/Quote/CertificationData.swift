/// A certification data block: a type, a size and that many bytes.
///
/// Intel SGX ECDSA Quote Library API, Appendix A, table "Certification Data";
/// Intel TDX DCAP Quoting Library API, A.3.9 "Certification Data".
public struct CertificationData: Sendable, Equatable {
    /// Type 5: the PCK leaf, the PCK CA and the root CA certificates, concatenated PEM.
    public static let pckCertificateChain: UInt16 = 5
    /// Type 6: a QE report certification data block (TDX v4/v5 quotes).
    public static let qeReportCertificationData: UInt16 = 6

    public var type: UInt16
    public var data: [UInt8]

    init(reader: inout QuoteReader, name: String) throws(IntelQuoteError) {
        type = try reader.u16("\(name).type")
        let size = try reader.u32("\(name).size")
        guard size <= UInt32(reader.remaining) else {
            throw .badValue(field: "\(name).size",
                            detail: "\(size) bytes declared, \(reader.remaining) remain in the quote")
        }
        data = try reader.bytes(Int(size), "\(name).data")
    }
}

/// The QE report, its signature by the PCK key, the QE authentication data and the PCK chain.
///
/// Intel TDX DCAP Quoting Library API, A.3.11 "QE Report Certification Data"; in an SGX v3 quote
/// the same fields sit directly in the ECDSA signature data (Quote Library API, "Quote Signature
/// Data Structure").
public struct QEReportCertification: Sendable, Equatable {
    /// The 384 bytes the PCK key signed.
    public var qeReportBytes: [UInt8]
    public var qeReport: SGXReportBody
    /// Raw r‖s, 64 bytes.
    public var qeReportSignature: [UInt8]
    public var qeAuthData: [UInt8]
    public var certification: CertificationData

    init(reader: inout QuoteReader) throws(IntelQuoteError) {
        qeReportBytes = try reader.bytes(SGXReportBody.size, "qe_report")
        var reportReader = QuoteReader(qeReportBytes)
        qeReport = try SGXReportBody(reader: &reportReader, name: "qe_report")
        qeReportSignature = try reader.bytes(64, "qe_report_signature")
        let authSize = try reader.u16("qe_auth_data.size")
        qeAuthData = try reader.bytes(Int(authSize), "qe_auth_data.data")
        certification = try CertificationData(reader: &reader, name: "qe_certification_data")
    }
}

/// The ECDSA quote signature data that follows the signed header and body.
///
/// Intel SGX ECDSA Quote Library API, "ECDSA 256-bit Quote Signature Data Structure" (v3);
/// Intel TDX DCAP Quoting Library API, A.3.8 "ECDSA 256-bit Quote Signature Data Structure"
/// (v4/v5: the QE fields are wrapped in certification data type 6).
public struct ECDSASignatureData: Sendable, Equatable {
    /// Signature over header ‖ body by the attestation key, raw r‖s.
    public var signature: [UInt8]
    /// The attestation public key, raw x‖y (64 bytes).
    public var attestationKey: [UInt8]
    public var qe: QEReportCertification

    /// Reads `quote_signature_data_len` and the structure of that length.
    init(reader: inout QuoteReader, wrapped: Bool) throws(IntelQuoteError) {
        let length = try reader.u32("signature_data_len")
        guard length <= UInt32(reader.remaining) else {
            throw .badValue(field: "signature_data_len",
                            detail: "\(length) bytes declared, \(reader.remaining) remain in the quote")
        }
        var inner = QuoteReader(try reader.bytes(Int(length), "signature_data"))
        signature = try inner.bytes(64, "signature")
        attestationKey = try inner.bytes(64, "attestation_key")
        if wrapped {
            let outer = try CertificationData(reader: &inner, name: "certification_data")
            guard outer.type == CertificationData.qeReportCertificationData else {
                throw .badValue(field: "certification_data.type",
                                detail: "\(outer.type), expected 6 (QE report certification data)")
            }
            var qeReader = QuoteReader(outer.data)
            qe = try QEReportCertification(reader: &qeReader)
        } else {
            qe = try QEReportCertification(reader: &inner)
        }
    }
}
