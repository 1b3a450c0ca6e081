import CofferCore

/// Host → guest: produce evidence of this guest for the host's `nonce` (at most 64 bytes).
/// Payload: `nonce (0–64 bytes, the rest)`.
///
/// The request carries a nonce, never report data: the guest derives the report data itself
/// (`AttestVMBinding.reportData(nonce:)`), so the host cannot choose what the quote binds.
public struct AttestRequest: WireMessage {
    public static let kind = FrameKind.attest
    public static let maximumNonceSize = 64

    public var nonce: [UInt8]

    public init(nonce: [UInt8]) { self.nonce = nonce }

    public func write(to writer: inout ByteWriter) { writer.write(nonce) }

    public init(reading reader: inout ByteReader) throws {
        nonce = reader.readRest()
        guard nonce.count <= Self.maximumNonceSize else { throw FieldError("nonce of \(nonce.count) bytes (at most \(Self.maximumNonceSize))") }
    }
}

/// The report data of evidence a VM gives for `coffer attest vm`: the one place it is derived,
/// by the guest agent (what it puts in the quote) and by the host (what it prints, and what
/// sample evidence signs).
///
/// Security: a guest that put host-chosen bytes into its report data would be an attestation
/// oracle. A hostile host could run the key broker's handshake with a key of its own, have the
/// guest quote the broker's binding (hash of the nonce and the host's key), and be given the
/// workload's secrets. So the host sends only a nonce and the report data is a domain-separated
/// digest of it: SHA-512("coffer attest-vm v1" || 0x00 || nonce), 64 bytes, which no broker
/// binding can equal:
/// - a SHA-384 (or SHA-256) binding is zero-padded to 64 bytes, so its last 16 (or 32) bytes are
///   zero; a SHA-512 output ending in 16 zero bytes has probability 2^-128;
/// - a SHA-512 binding is the digest of canonical JSON, which begins with `{`, while this preimage
///   begins with `c`: equal digests would be a SHA-512 collision.
public enum AttestVMBinding {
    /// The label, followed by one 0x00 byte and the nonce, that is hashed.
    public static let label = "coffer attest-vm v1"

    /// The 64 bytes of report data for `nonce` (which the caller bounds to 64 bytes).
    public static func reportData(nonce: [UInt8]) -> [UInt8] {
        SHA512Digest.hash(Array(label.utf8) + [0] + nonce)
    }
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
