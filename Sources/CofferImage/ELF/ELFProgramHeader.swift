import CofferCore

/// One ELF64 program header (System V gABI, "Program Header"; glibc elf/elf.h `Elf64_Phdr`).
///
/// ```
///  offset size field
///       0    4 p_type    PT_LOAD 1, PT_DYNAMIC 2, PT_INTERP 3
///       4    4 p_flags
///       8    8 p_offset  where the segment's bytes are in the file
///      16    8 p_vaddr   where they are mapped in memory
///      24    8 p_paddr
///      32    8 p_filesz
///      40    8 p_memsz
///      48    8 p_align
/// ```
struct ELFProgramHeader: Sendable, Equatable {
    static let size: UInt16 = 56
    static let load: UInt32 = 1
    static let dynamic: UInt32 = 2
    static let interpreter: UInt32 = 3

    var type: UInt32
    var offset: UInt64
    var virtualAddress: UInt64
    var fileSize: UInt64

    /// The program header table named by `header`, each entry bounds-checked.
    static func table(_ file: ELFFile, header: ELFHeader) throws(ELFError) -> [ELFProgramHeader] {
        guard header.programHeaderCount > 0 else { return [] }
        /// A smaller entry size would make us read fields from the next entry.
        guard header.programHeaderEntrySize >= size else {
            throw .malformed(path: file.path, reason: "program header size \(header.programHeaderEntrySize), expected 56")
        }
        let stride = UInt64(header.programHeaderEntrySize)
        var reader = try file.reader(
            stride * UInt64(header.programHeaderCount), at: header.programHeaderOffset, "program header table")
        var table: [ELFProgramHeader] = []
        do {
            for _ in 0..<header.programHeaderCount {
                let type = try reader.readUInt32LE("p_type")
                _ = try reader.readUInt32LE("p_flags")
                let offset = try reader.readUInt64LE("p_offset")
                let vaddr = try reader.readUInt64LE("p_vaddr")
                _ = try reader.readUInt64LE("p_paddr")
                let filesz = try reader.readUInt64LE("p_filesz")
                _ = try reader.readUInt64LE("p_memsz")
                _ = try reader.readUInt64LE("p_align")
                try reader.skip(Int(stride) - Int(size), "program header padding")
                table.append(ELFProgramHeader(type: type, offset: offset, virtualAddress: vaddr, fileSize: filesz))
            }
        } catch {
            throw error.elfError(file.path)
        }
        return table
    }

    /// The file offset of virtual address `address`, through the PT_LOAD segment that maps it
    /// (DT_STRTAB holds an address, not an offset).
    static func fileOffset(of address: UInt64, in table: [ELFProgramHeader]) -> UInt64? {
        for segment in table where segment.type == load {
            let (end, overflow) = segment.virtualAddress.addingReportingOverflow(segment.fileSize)
            if !overflow, address >= segment.virtualAddress, address < end {
                let (offset, wrapped) = segment.offset.addingReportingOverflow(address - segment.virtualAddress)
                return wrapped ? nil : offset
            }
        }
        return nil
    }
}
