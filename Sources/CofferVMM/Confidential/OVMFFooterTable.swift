import CofferCore

/// The GUIDed table OVMF's reset vector carries at the end of the image, where QEMU and the
/// measurement tools look for the SEV and TDX entry points (edk2 OvmfPkg/ResetVector/Ia16/
/// ResetVectorVtf0.asm, "guidedStructureStart"; QEMU hw/i386/pc_sysfw_ovmf.c).
///
/// Read backwards from 32 bytes before the end of the image (the last 32 bytes hold the reset
/// vector itself):
/// ```
///  … | entry data | size u16 | GUID | … | entry data | size u16 | GUID | size u16 | FOOTER GUID | 32 bytes |
///      '------------ an entry ----------'                          '-- footer: size covers the
///                                                                       whole table, itself included
/// ```
/// Each entry's `size` counts its data and its 18-byte header.
public struct OVMFFooterTable: Sendable, Equatable {
    /// `96b582de-1fb2-45f7-baea-a366c55a082d`: the footer that marks the table.
    public static let footerGUID = FirmwareGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
    /// `00f771de-1a7e-4fcb-890e-68c77e2fb44e`: the SEV-ES AP reset block (first u32: the reset EIP).
    public static let sevESResetBlockGUID = FirmwareGUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
    /// `7255371f-3a3b-4b04-927b-1da6efa8d454`: where QEMU writes the kernel hashes (u32 GPA, u32 size).
    public static let sevHashTableGUID = FirmwareGUID("7255371f-3a3b-4b04-927b-1da6efa8d454")
    /// `dc886566-984a-4798-a75e-5585a7bf67cc`: the SEV metadata (u32 offset from the image's end).
    public static let sevMetadataGUID = FirmwareGUID("dc886566-984a-4798-a75e-5585a7bf67cc")
    /// `e47a6535-984a-4798-865e-4685a7bf8ec2`: the TDX metadata (TDVF's sections for the TD).
    public static let tdxMetadataGUID = FirmwareGUID("e47a6535-984a-4798-865e-4685a7bf8ec2")

    static let headerSize = 2 + 16
    static let resetVectorSize = 32

    /// Each entry's data, by GUID, in the table's order from the end.
    public private(set) var entries: [Entry] = []

    public struct Entry: Sendable, Equatable {
        public var guid: FirmwareGUID
        public var data: [UInt8]
    }

    /// The table of `image` (the whole firmware file, or at least its last pages).
    public init(image: [UInt8]) throws(LaunchDigestError) {
        let footerEnd = image.count - Self.resetVectorSize
        guard footerEnd - Self.headerSize >= 0 else {
            throw .firmware("the image is \(image.count) bytes, too short for OVMF's GUIDed footer table")
        }
        let (tableSize, footer) = Self.header(image, endingAt: footerEnd)
        guard footer == Self.footerGUID else {
            throw .firmware("no OVMF GUIDed footer table (\(Self.footerGUID)) \(Self.resetVectorSize) bytes before the end: not an OVMF image")
        }
        let start = footerEnd - Int(tableSize)
        guard Int(tableSize) >= Self.headerSize, start >= 0 else {
            throw .firmware("the OVMF footer table claims \(tableSize) bytes, more than the image holds before it")
        }
        var end = footerEnd - Self.headerSize
        while end > start {
            guard end - start >= Self.headerSize else { throw .firmware("the OVMF footer table ends in a truncated entry") }
            let (size, guid) = Self.header(image, endingAt: end)
            guard Int(size) >= Self.headerSize, end - Int(size) >= start else {
                throw .firmware("the OVMF footer table entry \(guid) has size \(size), outside the table")
            }
            entries.append(Entry(guid: guid, data: Array(image[(end - Int(size))..<(end - Self.headerSize)])))
            end -= Int(size)
        }
    }

    /// The data of the entry `guid`, or nil.
    public func entry(_ guid: FirmwareGUID) -> [UInt8]? { entries.first { $0.guid == guid }?.data }

    public func contains(_ guid: FirmwareGUID) -> Bool { entry(guid) != nil }

    /// The first little-endian u32 of entry `guid`, or why it is missing.
    public func uint32(_ guid: FirmwareGUID, at offset: Int = 0, _ name: String) throws(LaunchDigestError) -> UInt32 {
        guard let data = entry(guid) else { throw .firmware("the OVMF footer table has no \(name) entry (\(guid))") }
        var reader = ByteReader(data, offset: offset)
        do { return try reader.readUInt32LE(name) } catch { throw .firmware("the OVMF footer table's \(name) entry is \(error)") }
    }

    /// The (size, GUID) header whose last byte is before `end`; the caller checked 18 bytes are there.
    private static func header(_ image: [UInt8], endingAt end: Int) -> (UInt16, FirmwareGUID) {
        let at = end - headerSize
        let size = UInt16(image[at]) | UInt16(image[at + 1]) << 8
        return (size, FirmwareGUID(counted: image[(at + 2)..<end]))
    }
}
