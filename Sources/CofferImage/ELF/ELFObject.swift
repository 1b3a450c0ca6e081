import CofferCore

/// What the dynamic loader needs to know about one x86-64 ELF object: its interpreter and the
/// dynamic section entries that drive library search.
///
/// The dynamic section (System V gABI, "Dynamic Section"; glibc elf/elf.h `Elf64_Dyn`) is an array
/// of 16-byte entries, `d_tag` (8) then `d_val` (8), ended by DT_NULL. String-valued entries are
/// offsets into the table at DT_STRTAB, an address that a PT_LOAD segment maps to a file offset.
struct ELFObject: Sendable, Equatable {
    static let tagNull: UInt64 = 0
    static let tagNeeded: UInt64 = 1
    static let tagStringTable: UInt64 = 5
    static let tagStringTableSize: UInt64 = 10
    static let tagSoname: UInt64 = 14
    static let tagRPath: UInt64 = 15
    static let tagRunPath: UInt64 = 29

    /// PT_INTERP: the path of the program interpreter (ld.so), nil for static programs.
    var interpreter: String?
    /// DT_NEEDED names in order.
    var needed: [String] = []
    var soname: String?
    /// DT_RPATH, already dropped when DT_RUNPATH is present (glibc elf/get-dynamic-info.h ignores
    /// DT_RPATH in that case).
    var rpath: String?
    var runpath: String?

    /// Parses `file`. For a valid ELF file of another class or machine returns `.otherMachine`
    /// and no object, so a library search can skip it as ld.so does.
    static func read(_ file: ELFFile) throws(ELFError) -> (ELFHeader.Kind, ELFObject?) {
        let (kind, header) = try ELFHeader.read(file)
        guard let header else { return (kind, nil) }
        let table = try ELFProgramHeader.table(file, header: header)
        var object = ELFObject()
        if let segment = table.first(where: { $0.type == ELFProgramHeader.interpreter }) {
            let bytes = try file.read(segment.fileSize, at: segment.offset, "PT_INTERP")
            object.interpreter = try string(in: bytes, at: 0, field: "PT_INTERP", path: file.path)
        }
        if let segment = table.first(where: { $0.type == ELFProgramHeader.dynamic }) {
            try object.readDynamic(file, segment: segment, table: table)
        }
        return (kind, object)
    }

    private mutating func readDynamic(
        _ file: ELFFile, segment: ELFProgramHeader, table: [ELFProgramHeader]
    ) throws(ELFError) {
        var reader = try file.reader(segment.fileSize, at: segment.offset, "PT_DYNAMIC")
        var entries: [(tag: UInt64, value: UInt64)] = []
        do {
            while reader.remaining >= 16 {
                let tag = try reader.readUInt64LE("d_tag")
                let value = try reader.readUInt64LE("d_val")
                if tag == Self.tagNull { break }
                entries.append((tag, value))
            }
        } catch {
            throw error.elfError(file.path)
        }
        let stringOffsets = entries.filter { [Self.tagNeeded, Self.tagSoname, Self.tagRPath, Self.tagRunPath].contains($0.tag) }
        guard !stringOffsets.isEmpty else { return }
        guard let address = entries.first(where: { $0.tag == Self.tagStringTable })?.value,
            let size = entries.first(where: { $0.tag == Self.tagStringTableSize })?.value
        else { throw .malformed(path: file.path, reason: "dynamic section has strings but no DT_STRTAB/DT_STRSZ") }
        guard let offset = ELFProgramHeader.fileOffset(of: address, in: table) else {
            throw .malformed(path: file.path, reason: "DT_STRTAB address 0x\(String(address, radix: 16)) is in no PT_LOAD segment")
        }
        let strings = try file.read(size, at: offset, "dynamic string table")
        for entry in stringOffsets {
            let text = try Self.string(in: strings, at: entry.value, field: "dynamic string", path: file.path)
            switch entry.tag {
            case Self.tagNeeded: needed.append(text)
            case Self.tagSoname: soname = text
            case Self.tagRPath: rpath = text
            default: runpath = text
            }
        }
        if runpath != nil { rpath = nil }
    }

    /// The NUL-terminated string at `offset` of `bytes`.
    static func string(in bytes: [UInt8], at offset: UInt64, field: String, path: String) throws(ELFError) -> String {
        /// A string offset from the file must stay inside the table and find its NUL there.
        guard offset < UInt64(bytes.count) else {
            throw .malformed(path: path, reason: "\(field) offset \(offset) is outside its \(bytes.count)-byte table")
        }
        let tail = bytes[Int(offset)...]
        guard let end = tail.firstIndex(of: 0) else {
            throw .malformed(path: path, reason: "\(field) at offset \(offset) has no terminating NUL")
        }
        return String(decoding: tail[..<end], as: UTF8.self)
    }
}
