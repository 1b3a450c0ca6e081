import CofferCore

/// An SEV-SNP guest attestation report: the ATTESTATION_REPORT structure of AMD's "SEV Secure
/// Nested Paging Firmware ABI Specification" (publication 56860), section 7.3 "Attestation",
/// Table 22 "ATTESTATION_REPORT Structure" (revision 1.55). 1184 (0x4A0) bytes, all integers
/// little-endian; the signature covers bytes 0x000..<0x2A0.
///
/// ```
///  0x000 VERSION u32        0x004 GUEST_SVN u32     0x008 POLICY u64
///  0x010 FAMILY_ID [16]     0x020 IMAGE_ID [16]     0x030 VMPL u32   0x034 SIGNATURE_ALGO u32
///  0x038 CURRENT_TCB u64    0x040 PLATFORM_INFO u64 0x048 signer info u32  0x04C reserved
///  0x050 REPORT_DATA [64]   0x090 MEASUREMENT [48]  0x0C0 HOST_DATA [32]
///  0x0E0 ID_KEY_DIGEST [48] 0x110 AUTHOR_KEY_DIGEST [48]
///  0x140 REPORT_ID [32]     0x160 REPORT_ID_MA [32] 0x180 REPORTED_TCB u64
///  0x188 CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (version 3+; reserved in 2), reserved to 0x1A0
///  0x1A0 CHIP_ID [64]       0x1E0 COMMITTED_TCB u64
///  0x1E8 CURRENT_BUILD, _MINOR, _MAJOR, reserved   0x1EC COMMITTED_BUILD, _MINOR, _MAJOR, reserved
///  0x1F0 LAUNCH_TCB u64     0x1F8 LAUNCH_MITIGATION_VECTOR u64  0x200 CURRENT_MITIGATION_VECTOR u64
///  0x208 reserved to 0x2A0
///  0x2A0 SIGNATURE [512]: R [72] little-endian, S [72] little-endian, reserved [368]
/// ```
///
/// The mitigation vectors are later additions (reserved, hence zero, in older reports); like
/// google/go-sev-guest, Coffer reads them at every version.
public struct SNPReport: Sendable, Equatable {
    public static let size = 0x4A0
    /// The signature covers every byte before it.
    public static let signedLength = 0x2A0
    public static let supportedVersions: ClosedRange<UInt32> = 2...5

    /// The report's signing key, SIGNER_INFO bits 4:2.
    public enum SigningKey: UInt32, Sendable {
        /// Versioned Chip Endorsement Key, unique to the chip and its TCB.
        case vcek = 0
        /// Versioned Loaded Endorsement Key, provisioned by a cloud provider through AMD.
        case vlek = 1
    }

    /// POLICY bit 19 ("Guest Policy Structure" table): the host may decrypt the guest's memory
    /// with SNP debug commands. Such a guest keeps no secret from the host.
    public static let policyDebugBit: UInt64 = 1 << 19

    public var version: UInt32
    public var guestSVN: UInt32
    public var policy: UInt64
    public var familyID: [UInt8]
    public var imageID: [UInt8]
    public var vmpl: UInt32
    public var signatureAlgorithm: UInt32
    public var currentTCB: SNPTCBVersion
    public var platformInfo: UInt64
    /// AUTHOR_KEY_EN: the ID key was certified by an author key whose digest is in the report.
    public var authorKeyEnabled: Bool
    /// MASK_CHIP_KEY: the chip key was masked; CHIP_ID is zero and the report is not VCEK-signed.
    public var maskChipKey: Bool
    public var signingKey: SigningKey
    public var reportData: [UInt8]
    public var measurement: [UInt8]
    public var hostData: [UInt8]
    public var idKeyDigest: [UInt8]
    public var authorKeyDigest: [UInt8]
    public var reportID: [UInt8]
    public var reportIDMA: [UInt8]
    public var reportedTCB: SNPTCBVersion
    /// CPUID family, model and stepping of the chip (version 3 and later; nil for version 2).
    public var cpuidFamily: UInt8?
    public var cpuidModel: UInt8?
    public var cpuidStepping: UInt8?
    public var chipID: [UInt8]
    public var committedTCB: SNPTCBVersion
    public var currentBuild: UInt8
    public var currentMinor: UInt8
    public var currentMajor: UInt8
    public var committedBuild: UInt8
    public var committedMinor: UInt8
    public var committedMajor: UInt8
    public var launchTCB: SNPTCBVersion
    public var launchMitigationVector: UInt64
    public var currentMitigationVector: UInt64
    /// ECDSA P-384 R and S, each 72 bytes little-endian as the report carries them (zero-padded).
    public var signatureR: [UInt8]
    public var signatureS: [UInt8]
    /// Bytes 0x000..<0x2A0: what the signature covers.
    public var signedBytes: [UInt8]

    /// Parses exactly one 1184-byte report.
    public init(parsing bytes: [UInt8]) throws(SNPReportError) {
        guard bytes.count <= Self.size else { throw .trailingBytes(count: bytes.count - Self.size) }
        do {
            try self.init(reader: ByteReader(bytes))
        } catch let error as ByteReader.Truncated {
            throw .truncated(error)
        } catch let error as SNPReportError {
            throw error
        } catch {
            throw .unreadable("\(error)")
        }
    }

    private init(reader input: ByteReader) throws {
        var r = input
        // Check the whole length first so a short input names the report, not a random field.
        var whole = r
        try whole.skip(Self.size, "ATTESTATION_REPORT")
        version = try r.readUInt32LE("VERSION")
        guard Self.supportedVersions.contains(version) else { throw SNPReportError.unsupportedVersion(version) }
        guestSVN = try r.readUInt32LE("GUEST_SVN")
        policy = try r.readUInt64LE("POLICY")
        familyID = try r.read(16, "FAMILY_ID")
        imageID = try r.read(16, "IMAGE_ID")
        vmpl = try r.readUInt32LE("VMPL")
        signatureAlgorithm = try r.readUInt32LE("SIGNATURE_ALGO")
        guard signatureAlgorithm == 1 else { throw SNPReportError.unsupportedSignatureAlgorithm(signatureAlgorithm) }
        currentTCB = SNPTCBVersion(raw: try r.readUInt64LE("CURRENT_TCB"))
        platformInfo = try r.readUInt64LE("PLATFORM_INFO")
        let signerInfo = try r.readUInt32LE("SIGNER_INFO")
        guard signerInfo >> 5 == 0 else { throw SNPReportError.reservedNotZero(field: "SIGNER_INFO bits 31:5", offset: 0x48) }
        authorKeyEnabled = signerInfo & 1 != 0
        maskChipKey = signerInfo & 2 != 0
        guard let key = SigningKey(rawValue: signerInfo >> 2 & 7) else {
            throw SNPReportError.unsupportedSigningKey(signerInfo >> 2 & 7)
        }
        signingKey = key
        try Self.reserved(&r, 4, "reserved after SIGNER_INFO")
        reportData = try r.read(64, "REPORT_DATA")
        measurement = try r.read(48, "MEASUREMENT")
        hostData = try r.read(32, "HOST_DATA")
        idKeyDigest = try r.read(48, "ID_KEY_DIGEST")
        authorKeyDigest = try r.read(48, "AUTHOR_KEY_DIGEST")
        reportID = try r.read(32, "REPORT_ID")
        reportIDMA = try r.read(32, "REPORT_ID_MA")
        reportedTCB = SNPTCBVersion(raw: try r.readUInt64LE("REPORTED_TCB"))
        if version >= 3 {
            cpuidFamily = try r.readUInt8("CPUID_FAM_ID")
            cpuidModel = try r.readUInt8("CPUID_MOD_ID")
            cpuidStepping = try r.readUInt8("CPUID_STEP")
            try Self.reserved(&r, 0x1A0 - 0x18B, "reserved after CPUID_STEP")
        } else {
            try Self.reserved(&r, 0x1A0 - 0x188, "reserved after REPORTED_TCB")
        }
        chipID = try r.read(64, "CHIP_ID")
        committedTCB = SNPTCBVersion(raw: try r.readUInt64LE("COMMITTED_TCB"))
        currentBuild = try r.readUInt8("CURRENT_BUILD")
        currentMinor = try r.readUInt8("CURRENT_MINOR")
        currentMajor = try r.readUInt8("CURRENT_MAJOR")
        try Self.reserved(&r, 1, "reserved after CURRENT_MAJOR")
        committedBuild = try r.readUInt8("COMMITTED_BUILD")
        committedMinor = try r.readUInt8("COMMITTED_MINOR")
        committedMajor = try r.readUInt8("COMMITTED_MAJOR")
        try Self.reserved(&r, 1, "reserved after COMMITTED_MAJOR")
        launchTCB = SNPTCBVersion(raw: try r.readUInt64LE("LAUNCH_TCB"))
        launchMitigationVector = try r.readUInt64LE("LAUNCH_MITIGATION_VECTOR")
        currentMitigationVector = try r.readUInt64LE("CURRENT_MITIGATION_VECTOR")
        try Self.reserved(&r, Self.signedLength - 0x208, "reserved before SIGNATURE")
        signatureR = try r.read(72, "SIGNATURE R")
        signatureS = try r.read(72, "SIGNATURE S")
        /// The unused tail of the signature is not signed; requiring zeros keeps one report one
        /// byte string, so a relay cannot make many distinct-looking copies of a single report.
        try Self.reserved(&r, Self.size - Self.signedLength - 144, "reserved after SIGNATURE")
        signedBytes = Array(input.bytes[0..<Self.signedLength])
    }

    /// Whether the guest policy allows debugging (see `policyDebugBit`).
    public var debugAllowed: Bool { policy & Self.policyDebugBit != 0 }

    private static func reserved(_ r: inout ByteReader, _ count: Int, _ field: String) throws {
        let offset = r.offset
        let bytes = try r.read(count, field)
        guard bytes.allSatisfy({ $0 == 0 }) else { throw SNPReportError.reservedNotZero(field: field, offset: offset) }
    }
}
