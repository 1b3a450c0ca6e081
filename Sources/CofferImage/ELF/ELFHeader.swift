import CofferCore

/// The ELF file header, ELF64 layout (System V gABI, "ELF Header"; glibc elf/elf.h `Elf64_Ehdr`).
///
/// ```
///  offset size field
///       0   16 e_ident      7f 'E' 'L' 'F', class, data, version, OS ABI, ABI version, padding
///      16    2 e_type       ET_EXEC 2, ET_DYN 3
///      18    2 e_machine    EM_X86_64 62
///      20    4 e_version
///      24    8 e_entry
///      32    8 e_phoff      program header table offset
///      40    8 e_shoff
///      48    4 e_flags
///      52    2 e_ehsize
///      54    2 e_phentsize  56 for ELF64
///      56    2 e_phnum
///      58    2 e_shentsize
///      60    2 e_shnum
///      62    2 e_shstrndx
/// ```
struct ELFHeader: Sendable, Equatable {
    static let size: UInt64 = 64
    static let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
    static let classELF64: UInt8 = 2
    static let dataLittleEndian: UInt8 = 1
    static let machineX8664: UInt16 = 62

    /// What the identification bytes say about a file, before any other field is trusted.
    enum Kind: Equatable {
        /// ELF64, little-endian, x86-64: the only kind that is parsed further.
        case x8664
        /// A valid ELF file for another class, byte order or machine: ld.so skips such a file
        /// while searching and keeps looking (glibc elf/dl-load.c `open_verify`).
        case otherMachine(String)
    }

    var type: UInt16
    var machine: UInt16
    var programHeaderOffset: UInt64
    var programHeaderEntrySize: UInt16
    var programHeaderCount: UInt16

    /// Reads the identification and, for x86-64 files, the rest of the header. Throws `notELF`
    /// without the magic and `truncated` when the file is too short for what it claims.
    static func read(_ file: ELFFile) throws(ELFError) -> (Kind, ELFHeader?) {
        guard file.size >= 4, try file.read(4, at: 0, "ELF magic") == magic else { throw .notELF(path: file.path) }
        var reader = try file.reader(min(size, file.size), at: 0, "ELF header")
        do {
            let ident = try reader.read(16, "e_ident")
            let machine = try { () throws(ByteReader.Truncated) -> UInt16 in
                var peek = reader
                try peek.skip(2, "e_type")
                return try peek.readUInt16LE("e_machine")
            }()
            guard ident[4] == classELF64, ident[5] == dataLittleEndian, machine == machineX8664 else {
                let found = "class \(ident[4] == 1 ? "ELF32" : ident[4] == 2 ? "ELF64" : "\(ident[4])"), "
                    + "\(ident[5] == 1 ? "little" : "big")-endian, machine \(machine)"
                return (.otherMachine(found), nil)
            }
            let type = try reader.readUInt16LE("e_type")
            _ = try reader.readUInt16LE("e_machine")
            _ = try reader.readUInt32LE("e_version")
            _ = try reader.readUInt64LE("e_entry")
            let phoff = try reader.readUInt64LE("e_phoff")
            _ = try reader.readUInt64LE("e_shoff")
            _ = try reader.readUInt32LE("e_flags")
            _ = try reader.readUInt16LE("e_ehsize")
            let phentsize = try reader.readUInt16LE("e_phentsize")
            let phnum = try reader.readUInt16LE("e_phnum")
            let header = ELFHeader(
                type: type, machine: machine, programHeaderOffset: phoff,
                programHeaderEntrySize: phentsize, programHeaderCount: phnum)
            return (.x8664, header)
        } catch {
            throw error.elfError(file.path)
        }
    }
}
