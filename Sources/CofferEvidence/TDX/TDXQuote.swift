/// A TDX quote, version 4 or 5.
///
/// Intel TDX DCAP Quoting Library API, A.3 "Version 4 Quote Format" — header (48) ‖ TD report 1.0
/// (584) ‖ signature data length (4) ‖ signature data — and A.4 "Version 5 Quote Format" — header
/// (48) ‖ body type (2) ‖ body size (4) ‖ body (type 2: TD report 1.0, type 3: TD report 1.5) ‖
/// signature data length (4) ‖ signature data.
public struct TDXQuote: Sendable, Equatable {
    /// v5 `body type` for a TD report 1.0.
    public static let bodyTypeTD10: UInt16 = 2
    /// v5 `body type` for a TD report 1.5.
    public static let bodyTypeTD15: UInt16 = 3

    public var header: QuoteHeader
    public var body: TDReportBody
    public var signatureData: ECDSASignatureData
    /// The bytes the attestation key signed: header ‖ (v5: type ‖ size ‖) body.
    public var signedBytes: ArraySlice<UInt8>

    public init(bytes: [UInt8]) throws(IntelQuoteError) {
        var reader = QuoteReader(bytes)
        header = try QuoteHeader(reader: &reader)
        guard header.teeType == QuoteHeader.teeTDX else {
            throw .badValue(field: "header.tee_type", detail: "\(header.teeType), expected 0x81 (TDX)")
        }
        switch header.version {
        case 4:
            body = .v10(try TDReport10(reader: &reader))
        case 5:
            let type = try reader.u16("body.type")
            let size = try reader.u32("body.size")
            switch (type, size) {
            case (Self.bodyTypeTD10, UInt32(TDReport10.size)): body = .v10(try TDReport10(reader: &reader))
            case (Self.bodyTypeTD15, UInt32(TDReport15.size)): body = .v15(try TDReport15(reader: &reader))
            default:
                throw .badValue(field: "body.type",
                                detail: "type \(type) size \(size); a TDX v5 quote needs type 2 (584) or 3 (648)")
            }
        default:
            throw .badValue(field: "header.version", detail: "\(header.version), a TDX quote must be version 4 or 5")
        }
        signedBytes = bytes[0..<reader.offset]
        signatureData = try ECDSASignatureData(reader: &reader, wrapped: true)
    }
}
