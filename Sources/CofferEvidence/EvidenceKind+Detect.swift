import CofferCore

extension EvidenceKind {
    /// Recognises evidence from its leading bytes: an Intel quote header, the sample magic, or an
    /// SEV-SNP report (exactly 0x4A0 bytes with a supported VERSION). Nil when nothing matches;
    /// recognising is not verifying — the parser for the kind still checks every field.
    public static func detect(_ bytes: [UInt8]) -> EvidenceKind? {
        if let intel = detectIntelQuote(bytes) { return intel }
        if bytes.starts(with: SampleEvidence.magic) { return .sample }
        if bytes.count == SNPReport.size {
            var reader = ByteReader(bytes)
            if let version = try? reader.readUInt32LE("version"), SNPReport.supportedVersions.contains(version) {
                return .snpReport
            }
        }
        return nil
    }
}
