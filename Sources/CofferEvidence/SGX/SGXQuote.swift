/// An SGX ECDSA quote, version 3.
///
/// Intel SGX ECDSA Quote Library API, Appendix A "Quote Format" (`sgx_quote3_t`):
/// header (48) ‖ ISV enclave report body (384) ‖ signature data length (4) ‖ signature data.
public struct SGXQuote: Sendable, Equatable {
    public var header: QuoteHeader
    public var body: SGXReportBody
    public var signatureData: ECDSASignatureData
    /// The bytes the attestation key signed: header ‖ body.
    public var signedBytes: ArraySlice<UInt8>

    public init(bytes: [UInt8]) throws(IntelQuoteError) {
        var reader = QuoteReader(bytes)
        header = try QuoteHeader(reader: &reader)
        guard header.version == 3 else {
            throw .badValue(field: "header.version", detail: "\(header.version), an SGX quote must be version 3")
        }
        guard header.teeType == QuoteHeader.teeSGX else {
            throw .badValue(field: "header.tee_type", detail: "\(header.teeType), expected 0 (SGX)")
        }
        body = try SGXReportBody(reader: &reader, name: "report_body")
        signedBytes = bytes[0..<reader.offset]
        signatureData = try ECDSASignatureData(reader: &reader, wrapped: false)
    }
}
