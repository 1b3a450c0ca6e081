import CofferCore

/// Why bytes are not an SEV-SNP attestation report Coffer can read.
public enum SNPReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input ended before the field named in the cause.
    case truncated(ByteReader.Truncated)
    /// The report is longer than the 1184 bytes of ATTESTATION_REPORT.
    case trailingBytes(count: Int)
    /// Only versions 2 and 3 (and the layout-compatible 4 and 5) are understood.
    case unsupportedVersion(UInt32)
    /// Only ECDSA P-384 with SHA-384 (algorithm 1) is defined for report signatures.
    case unsupportedSignatureAlgorithm(UInt32)
    /// SIGNING_KEY names neither the VCEK (0) nor the VLEK (1).
    case unsupportedSigningKey(UInt32)
    /// A field the specification reserves as zero is not zero.
    case reservedNotZero(field: String, offset: Int)
    /// A failure the parser did not anticipate (a bug in Coffer if ever seen).
    case unreadable(String)

    public var description: String {
        switch self {
        case .truncated(let cause): "SEV-SNP report \(cause) (a report is 1184 bytes)"
        case .trailingBytes(let count): "SEV-SNP report has \(count) bytes after its 1184-byte end"
        case .unsupportedVersion(let v): "SEV-SNP report version \(v) is not supported (2 to 5 are)"
        case .unsupportedSignatureAlgorithm(let a):
            "SEV-SNP report signature algorithm \(a) is not supported (1, ECDSA P-384 SHA-384, is)"
        case .unsupportedSigningKey(let k): "SEV-SNP report signing key \(k) is neither VCEK (0) nor VLEK (1)"
        case .reservedNotZero(let field, let offset):
            "SEV-SNP report reserved field \(field) at offset 0x\(String(offset, radix: 16)) is not zero"
        case .unreadable(let reason): "SEV-SNP report cannot be read: \(reason)"
        }
    }
}
