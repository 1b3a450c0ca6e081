import CofferCore

/// Host → guest: produce evidence of this guest binding `reportData` (64 bytes: a verifier's
/// nonce or a hash of it and a key). Payload: `report data (64 bytes)`.
public struct AttestRequest: WireMessage {
    public static let kind = FrameKind.attest

    public var reportData: [UInt8]

    public init(reportData: [UInt8]) { self.reportData = reportData }

    public func write(to writer: inout ByteWriter) { writer.write(reportData) }

    public init(reading reader: inout ByteReader) throws { reportData = try reader.read(64, "report data") }
}

/// Guest → host: the TEE's evidence for an `attest` request. Payload: `format u8 | bytes`.
/// `none` means the guest has no TEE to ask (development mode): the launcher may then make
/// `sample` evidence itself, which protects nothing and says so.
public struct GuestEvidence: WireMessage {
    public static let kind = FrameKind.evidence

    public enum Format: UInt8, Sendable {
        case none = 0
        /// An Intel TDX quote (from the kernel's TSM report interface, provider tdx_guest).
        case tdxQuote = 1
        /// An AMD SEV-SNP attestation report (provider sev_guest).
        case snpReport = 2
    }

    public var format: Format
    public var bytes: [UInt8]
    /// Why there is no evidence (for `none`), as the agent saw it.
    public var note: String { format == .none ? String(decoding: bytes, as: UTF8.self) : "" }

    public init(_ format: Format, _ bytes: [UInt8]) {
        self.format = format
        self.bytes = bytes
    }

    public func write(to writer: inout ByteWriter) {
        writer.writeUInt8(format.rawValue)
        writer.write(bytes)
    }

    public init(reading reader: inout ByteReader) throws {
        let value = try reader.readUInt8("format")
        guard let format = Format(rawValue: value) else { throw FieldError("unknown evidence format \(value)") }
        self.format = format
        bytes = reader.readRest()
    }
}
