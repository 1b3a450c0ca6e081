import CofferCore

/// The SEV-SNP launch digest as the AMD secure processor computes it in the guest context (GCTX)
/// during SNP_LAUNCH_UPDATE: starting from 48 zero bytes, every page added to the guest replaces
/// the digest with SHA-384 of a PAGE_INFO structure that holds the previous digest (SEV Secure
/// Nested Paging Firmware ABI Specification, revision 1.55, section 8.17 "SNP_LAUNCH_UPDATE",
/// table 67 "Layout of the PAGE_INFO Structure"). The final digest is the report's MEASUREMENT.
///
/// PAGE_INFO, 0x70 bytes, little-endian:
/// ```
/// 0x00 DIGEST_CUR  48 | 0x30 CONTENTS 48 | 0x60 LENGTH u16 = 0x70 | 0x62 PAGE_TYPE u8 | 0x63 IMI_PAGE u8
/// 0x64 VMPL3_PERMS u8 | 0x65 VMPL2_PERMS u8 | 0x66 VMPL1_PERMS u8 | 0x67 reserved | 0x68 GPA u64
/// ```
/// CONTENTS is SHA-384 of the page for normal and VMSA pages and zero for the others, whose
/// contents the firmware itself sets (zeros, the secrets, the checked CPUID table) or leaves
/// unmeasured. A launch by QEMU sets no VMPL permissions and no IMI pages.
public struct SNPLaunchDigest: Sendable {
    /// SNP_LAUNCH_UPDATE page types (ABI specification table 66).
    public enum PageType: UInt8, Sendable {
        case normal = 1, vmsa = 2, zero = 3, unmeasured = 4, secrets = 5, cpuid = 6
    }

    public static let pageSize = 4096
    public static let digestSize = 48
    /// The GPA a VMSA page is recorded with: the RMP keeps (u64)-1 for it, page-aligned and cut to
    /// the 52-bit physical address width, which is what enters PAGE_INFO.
    public static let vmsaGPA: UInt64 = 0xFFFF_FFFF_F000

    public private(set) var digest: [UInt8]
    let sha384: @Sendable ([UInt8]) -> [UInt8]

    /// `sha384` hashes the pages; CofferCore's portable SHA-384 unless the caller links a faster one.
    public init(sha384: @escaping @Sendable ([UInt8]) -> [UInt8] = { SHA512Digest.hash384($0) }) {
        digest = [UInt8](repeating: 0, count: Self.digestSize)
        self.sha384 = sha384
    }

    /// The PAGE_INFO that follows `current` for a page of `type` at `gpa` with `contents` (48 bytes).
    public static func pageInfo(current: [UInt8], contents: [UInt8], type: PageType, gpa: UInt64) -> [UInt8] {
        var info = ByteWriter(capacity: 0x70)
        info.writeFixed(current, width: digestSize)
        info.writeFixed(contents, width: digestSize)
        info.writeUInt16LE(0x70)
        info.writeUInt8(type.rawValue)
        info.writeUInt8(0)  // IMI_PAGE
        info.write([0, 0, 0])  // VMPL3, VMPL2, VMPL1 permissions
        info.writeUInt8(0)  // reserved
        info.writeUInt64LE(gpa)
        return info.bytes
    }

    mutating func update(_ type: PageType, gpa: UInt64, contents: [UInt8]) {
        digest = sha384(Self.pageInfo(current: digest, contents: contents, type: type, gpa: gpa))
    }

    /// Pages whose bytes are measured (firmware, the kernel-hashes page): `data` is whole pages.
    public mutating func addNormalPages(_ data: ArraySlice<UInt8>, at gpa: UInt64) {
        precondition(data.count % Self.pageSize == 0, "SNPLaunchDigest: normal pages must be whole pages")
        var offset = 0
        while offset < data.count {
            let start = data.startIndex + offset
            update(.normal, gpa: gpa + UInt64(offset), contents: sha384(Array(data[start..<(start + Self.pageSize)])))
            offset += Self.pageSize
        }
    }

    /// One vCPU's initial register state (a 4 KiB VMSA page).
    public mutating func addVMSA(_ page: [UInt8]) {
        update(.vmsa, gpa: Self.vmsaGPA, contents: sha384(page))
    }

    /// `length` bytes of pages of `type` (zero or unmeasured) from `gpa`, one PAGE_INFO each.
    public mutating func addPages(_ type: PageType, at gpa: UInt64, length: UInt64) {
        var offset: UInt64 = 0
        while offset < length {
            update(type, gpa: gpa + offset, contents: [UInt8](repeating: 0, count: Self.digestSize))
            offset += UInt64(Self.pageSize)
        }
    }
}
