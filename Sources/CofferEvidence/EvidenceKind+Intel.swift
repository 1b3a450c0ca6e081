extension EvidenceKind {
    /// Recognises an Intel DCAP quote from its header: SGX v3 (tee type 0), TDX v4 or v5 (tee type
    /// 0x81). Returns nil for anything else (other evidence kinds are recognised elsewhere).
    public static func detectIntelQuote(_ bytes: [UInt8]) -> EvidenceKind? {
        guard let header = try? QuoteHeader(bytes: bytes) else { return nil }
        switch (header.version, header.teeType) {
        case (3, QuoteHeader.teeSGX): return .sgxQuoteV3
        case (4, QuoteHeader.teeTDX): return .tdxQuoteV4
        case (5, QuoteHeader.teeTDX): return .tdxQuoteV5
        default: return nil
        }
    }
}
