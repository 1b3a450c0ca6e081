import CofferCore
import CofferEvidence
import Foundation
import CofferJSON

/// The evidence bytes (and optional DCAP/SNP collateral) inside `tee-evidence.primary_evidence`,
/// and the report data read from them before any signature is checked.
public struct EvidenceInput: Sendable {
    public var bytes: [UInt8]
    public var collateral: Data?
    public var reportData: [UInt8]

    /// Field names: sample `evidence`; sgx/tdx `quote` (as Trustee's SGX and TDX attesters send);
    /// snp `report`. Each base64 (standard or URL alphabet).
    public init(tee: KBSTee, primary: JSONValue) throws(KBSFailure) {
        let field = Self.field(for: tee)
        guard case .object = primary else { throw .badRequest("tee-evidence.primary_evidence must be a JSON object with \"\(field)\"") }
        guard let text = primary[field]?.stringValue else {
            throw .badRequest("tee-evidence.primary_evidence.\(field) is missing or not a string (base64 of the \(tee.rawValue) evidence)")
        }
        guard let decoded = Base64URL.decode(text), !decoded.isEmpty else {
            throw .badRequest("tee-evidence.primary_evidence.\(field) is not valid base64")
        }
        bytes = Array(decoded)
        switch primary["collateral"] {
        case nil, .null?: collateral = nil
        case .string(let encoded)?:
            guard let data = Base64URL.decode(encoded) else { throw .badRequest("tee-evidence.primary_evidence.collateral is not valid base64") }
            collateral = Data(data)
        case let value?:
            collateral = Data(value.compactBytes)
        }
        let kind = EvidenceKind.detect(bytes)
        /// Security: the evidence must be of the TEE the session was opened for, so a policy for
        /// one TEE is never applied to another's claims.
        let reportData: [UInt8]?
        switch (tee, kind) {
        case (.sample, .sample?): reportData = try? SampleEvidence(parsing: bytes).reportData
        case (.sgx, .sgxQuoteV3?): reportData = try? SGXQuote(bytes: bytes).body.reportData
        case (.tdx, .tdxQuoteV4?), (.tdx, .tdxQuoteV5?): reportData = try? TDXQuote(bytes: bytes).body.base.reportData
        case (.snp, .snpReport?): reportData = try? SNPReport(parsing: bytes).reportData
        default:
            throw .badRequest("tee-evidence is \(kind?.rawValue ?? "unrecognised evidence"), not \(tee.rawValue) evidence as the session's tee says")
        }
        guard let reportData else { throw .badRequest("tee-evidence: the \(tee.rawValue) evidence is malformed") }
        self.reportData = reportData
    }

    /// The member of `primary_evidence` holding the evidence's base64.
    public static func field(for tee: KBSTee) -> String {
        switch tee {
        case .sample: "evidence"
        case .sgx, .tdx: "quote"
        case .snp: "report"
        }
    }
}
