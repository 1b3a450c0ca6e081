/// The GUIDed table OVMF keeps just below its reset vector, through which QEMU and
/// sev-snp-measure find the firmware's SEV and TDX metadata (edk2 OvmfPkg/ResetVector/
/// Ia16/ResetVectorVtf0.asm, "guidedStructureStart"):
///
/// ```
///  ... | entry data | len LE16 | GUID | ... | len LE16 | footer GUID | 32 bytes reset vector | end of image
///        <------- one entry: len bytes -------->         <- 18 bytes ->
/// ```
/// The footer's `len` covers the whole table including itself; each entry's `len` covers its data,
/// its length and its GUID, and entries are read from the end downwards. Every read is bounds
/// checked: a firmware file is host input.
public struct OVMFFooterTable: Sendable, Equatable {
    /// 96b582de-1fb2-45f7-baea-a366c55a082d, the table's footer.
    public static let footerGUID = guid("96b582de-1fb2-45f7-baea-a366c55a082d")
    /// 7255371f-3a3b-4b04-927b-1da6efa8d454: where the firmware keeps the kernel, initrd and
    /// command-line hashes QEMU fills with `kernel-hashes=on` (SEV_HASH_TABLE_RV_GUID). Only
    /// AmdSev builds (with SNP_KERNEL_HASHES) carry it.
    public static let sevHashTableGUID = guid("7255371f-3a3b-4b04-927b-1da6efa8d454")
    /// dc886566-984a-4798-a75e-5585a7bf67cc: the SEV metadata (the pages SNP launches pre-validate).
    public static let sevMetadataGUID = guid("dc886566-984a-4798-a75e-5585a7bf67cc")
    /// e47a6535-984a-4798-865e-4685a7bf8ec2: the TDX metadata (TDVF's sections for the TD).
    public static let tdxMetadataGUID = guid("e47a6535-984a-4798-865e-4685a7bf8ec2")

    public struct Entry: Sendable, Equatable {
        /// The GUID's 16 bytes as stored (the mixed-endian EFI_GUID layout).
        public var guid: [UInt8]
        public var data: [UInt8]
    }

    public var entries: [Entry]

    /// Parses the table at the end of `image` (a whole firmware file or its tail); nil when the
    /// image has no table, or one that does not fit.
    public init?(image: [UInt8]) {
        let header = 18, resetVector = 32
        guard image.count >= resetVector + header else { return nil }
        let footerStart = image.count - resetVector - header
        guard Array(image[(footerStart + 2)..<(footerStart + header)]) == Self.footerGUID else { return nil }
        let tableLength = Int(image[footerStart]) | Int(image[footerStart + 1]) << 8
        guard tableLength >= header, tableLength - header <= footerStart else { return nil }
        var end = footerStart
        let start = footerStart - (tableLength - header)
        var entries: [Entry] = []
        while end > start {
            guard end - start >= header else { return nil }
            let entryHeader = end - header
            let length = Int(image[entryHeader]) | Int(image[entryHeader + 1]) << 8
            guard length >= header, length <= end - start else { return nil }
            let guid = Array(image[(entryHeader + 2)..<end])
            entries.append(Entry(guid: guid, data: Array(image[(end - length)..<entryHeader])))
            end -= length
        }
        self.entries = entries
    }

    public func contains(_ guid: [UInt8]) -> Bool { entries.contains { $0.guid == guid } }

    /// The stored (EFI_GUID, mixed-endian) bytes of a GUID in its text form.
    static func guid(_ text: String) -> [UInt8] {
        let groups = text.split(separator: "-").map { group in
            stride(from: 0, to: group.count, by: 2).map { offset -> UInt8 in
                let start = group.index(group.startIndex, offsetBy: offset)
                return UInt8(group[start..<group.index(start, offsetBy: 2)], radix: 16) ?? 0
            }
        }
        guard groups.count == 5 else { return [] }
        return groups[0].reversed() + groups[1].reversed() + groups[2].reversed() + groups[3] + groups[4]
    }
}
