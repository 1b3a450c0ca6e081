import CofferCore

/// OVMF's SEV metadata: the guest-physical ranges the firmware expects the VMM to populate before
/// launch, and how (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm; QEMU target/i386/sev.c).
/// Found through the footer table's `sevMetadataGUID` entry, whose first u32 is the offset of the
/// header from the end of the image.
/// ```
/// 0x00 "ASEV" | 0x04 length u32 (header and sections) | 0x08 version u32 = 1 | 0x0c count u32
/// 0x10 sections, 12 bytes each: base GPA u32 | length u32 | type u32
/// ```
public struct SEVMetadata: Sendable, Equatable {
    /// What the VMM puts in a section, and so how SNP_LAUNCH_UPDATE measures it.
    public enum SectionType: UInt32, Sendable, CustomStringConvertible {
        case snpSecMem = 1, snpSecrets = 2, cpuid = 3, svsmCAA = 4, snpKernelHashes = 0x10

        public var description: String {
            switch self {
            case .snpSecMem: "SNP_SEC_MEM"
            case .snpSecrets: "SNP_SECRETS"
            case .cpuid: "CPUID"
            case .svsmCAA: "SVSM_CAA"
            case .snpKernelHashes: "SNP_KERNEL_HASHES"
            }
        }
    }

    public struct Section: Sendable, Equatable {
        public var gpa: UInt64
        public var length: UInt64
        public var type: SectionType
    }

    public static let signature = Array("ASEV".utf8)

    /// The sections in the image's order: QEMU launches them in this order, so they are measured in it.
    public var sections: [Section]

    /// The metadata of `image` through its footer table; an image without the entry is not an SNP firmware.
    public init(image: [UInt8], table: OVMFFooterTable) throws(LaunchDigestError) {
        let offset = try table.uint32(OVMFFooterTable.sevMetadataGUID, "SEV metadata")
        guard offset <= image.count, offset >= 16 else {
            throw .firmware("the SEV metadata offset \(offset) from the end lies outside the \(image.count)-byte image")
        }
        var reader = ByteReader(image, offset: image.count - Int(offset))
        do {
            guard try reader.read(4, "SEV metadata signature") == Self.signature else {
                throw LaunchDigestError.firmware("the SEV metadata does not start with \"ASEV\"")
            }
            let length = try reader.readUInt32LE("SEV metadata length")
            let version = try reader.readUInt32LE("SEV metadata version")
            guard version == 1 else { throw LaunchDigestError.firmware("SEV metadata version \(version) is not supported (only 1)") }
            let count = try reader.readUInt32LE("SEV metadata section count")
            guard UInt64(length) == 16 + 12 * UInt64(count) else {
                throw LaunchDigestError.firmware("the SEV metadata's length \(length) does not match its \(count) sections")
            }
            sections = []
            for index in 0..<Int(count) {
                let gpa = try reader.readUInt32LE("SEV metadata section \(index) base")
                let size = try reader.readUInt32LE("SEV metadata section \(index) length")
                let raw = try reader.readUInt32LE("SEV metadata section \(index) type")
                guard let type = SectionType(rawValue: raw) else {
                    throw LaunchDigestError.firmware("SEV metadata section \(index) has unknown type \(raw)")
                }
                // Launch updates work on whole pages: a section that is not page-aligned cannot be
                // launched as described, so it is refused rather than measured some other way.
                guard gpa % 4096 == 0, size % 4096 == 0, size > 0 else {
                    throw LaunchDigestError.firmware("SEV metadata section \(index) (\(type)) at \(gpa) of \(size) bytes is not whole pages")
                }
                sections.append(Section(gpa: UInt64(gpa), length: UInt64(size), type: type))
            }
        } catch let error as LaunchDigestError {
            throw error
        } catch {
            throw .firmware("the SEV metadata is \(error)")
        }
    }
}
