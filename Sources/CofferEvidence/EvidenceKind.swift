import CofferCore

/// The evidence formats Coffer can parse, recognised from their leading bytes.
public enum EvidenceKind: String, Sendable, CaseIterable {
    case sgxQuoteV3 = "sgx-quote-v3"
    case tdxQuoteV4 = "tdx-quote-v4"
    case tdxQuoteV5 = "tdx-quote-v5"
    case snpReport = "snp-report"
    case sample = "sample"
}
