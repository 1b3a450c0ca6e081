import CofferCore

/// Coffer's `sample` evidence: what a guest presents on a machine with no TEE. The launcher signs
/// it with a local key, so it proves only that this launcher produced it — it protects nothing,
/// and no default policy accepts it. (Trustee's `sample` TEE is the precedent.)
///
/// Coffer's own format, version 1, 252 bytes, integers little-endian:
///
/// ```
///  offset  size
///       0     8  magic "COFFSMPL"
///       8     4  version (1)
///      12    48  measurement        ─┐ shaped like SEV-SNP's MEASUREMENT,
///      60    32  host_data           │ HOST_DATA and REPORT_DATA
///      92    64  report_data        ─┘
///     156    32  signer public key (Ed25519, raw)
///     188    64  signature (Ed25519) over bytes 0..<188
///     252        end
/// ```
///
/// Ed25519 rather than P-256: keys and signatures have one fixed raw encoding (no point
/// compression or DER choices for a parser to get wrong), and signing is deterministic, so a
/// launcher with a poor random source cannot leak its key through nonce reuse.
///
/// The signature covers the signer key too, so a signature cannot be moved under another key.
/// Signing and verifying happen host side (CofferVerifier); this type only lays out bytes.
public struct SampleEvidence: Sendable, Equatable {
    public static let magic: [UInt8] = Array("COFFSMPL".utf8)
    public static let currentVersion: UInt32 = 1
    public static let signedLength = 188
    public static let size = 252

    public var version: UInt32
    public var measurement: [UInt8]
    public var hostData: [UInt8]
    public var reportData: [UInt8]
    public var signerPublicKey: [UInt8]
    public var signature: [UInt8]

    /// Builds unsigned evidence; short fields are zero-padded, long ones are rejected.
    public init(measurement: [UInt8], hostData: [UInt8], reportData: [UInt8], signerPublicKey: [UInt8]) throws(SampleEvidenceError) {
        try Self.fits(measurement, 48, "measurement")
        try Self.fits(hostData, 32, "host_data")
        try Self.fits(reportData, 64, "report_data")
        guard signerPublicKey.count == 32 else { throw .wrongLength(field: "signer public key", expected: 32, actual: signerPublicKey.count) }
        version = Self.currentVersion
        self.measurement = Self.padded(measurement, 48)
        self.hostData = Self.padded(hostData, 32)
        self.reportData = Self.padded(reportData, 64)
        self.signerPublicKey = signerPublicKey
        signature = []
    }

    /// Parses exactly one encoded evidence.
    public init(parsing bytes: [UInt8]) throws(SampleEvidenceError) {
        var r = ByteReader(bytes)
        do {
            guard try r.read(8, "magic") == Self.magic else { throw SampleEvidenceError.badMagic }
            version = try r.readUInt32LE("version")
            guard version == Self.currentVersion else { throw SampleEvidenceError.unsupportedVersion(version) }
            measurement = try r.read(48, "measurement")
            hostData = try r.read(32, "host_data")
            reportData = try r.read(64, "report_data")
            signerPublicKey = try r.read(32, "signer public key")
            signature = try r.read(64, "signature")
        } catch let error as ByteReader.Truncated {
            throw .truncated(error)
        } catch let error as SampleEvidenceError {
            throw error
        } catch {
            throw .badMagic  // unreachable: the reads throw only the two errors above
        }
        guard r.isAtEnd else { throw .trailingBytes(count: r.remaining) }
    }

    /// Bytes 0..<188: what the signer signs.
    public var bytesToSign: [UInt8] {
        var w = ByteWriter(capacity: Self.signedLength)
        w.write(Self.magic)
        w.writeUInt32LE(version)
        w.writeFixed(measurement, width: 48)
        w.writeFixed(hostData, width: 32)
        w.writeFixed(reportData, width: 64)
        w.writeFixed(signerPublicKey, width: 32)
        return w.bytes
    }

    /// The whole evidence: `bytesToSign` followed by the 64-byte signature.
    public var encoded: [UInt8] {
        var w = ByteWriter(capacity: Self.size)
        w.write(bytesToSign)
        w.writeFixed(signature, width: 64)
        return w.bytes
    }

    private static func fits(_ value: [UInt8], _ width: Int, _ field: String) throws(SampleEvidenceError) {
        guard value.count <= width else { throw .wrongLength(field: field, expected: width, actual: value.count) }
    }

    private static func padded(_ value: [UInt8], _ width: Int) -> [UInt8] {
        value + [UInt8](repeating: 0, count: width - value.count)
    }
}

/// Why bytes are not sample evidence, or why fields cannot become one.
public enum SampleEvidenceError: Error, Sendable, Equatable, CustomStringConvertible {
    case truncated(ByteReader.Truncated)
    case badMagic
    case unsupportedVersion(UInt32)
    case trailingBytes(count: Int)
    case wrongLength(field: String, expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .truncated(let cause): "sample evidence \(cause) (sample evidence is 252 bytes)"
        case .badMagic: "not sample evidence: it does not start with \"COFFSMPL\""
        case .unsupportedVersion(let v): "sample evidence version \(v) is not supported (1 is)"
        case .trailingBytes(let count): "sample evidence has \(count) bytes after its 252-byte end"
        case .wrongLength(let field, let expected, let actual):
            "sample evidence \(field) is \(actual) bytes, too long or wrong for its \(expected)-byte field"
        }
    }
}
