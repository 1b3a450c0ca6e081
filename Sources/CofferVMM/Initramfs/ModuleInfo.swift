import CofferCore

/// The `.modinfo` section of a kernel module (`.ko`): NUL-separated `key=value` strings written by
/// MODULE_INFO() and modpost, among them `name=` and `depends=` (the modules whose symbols it uses).
///
/// Debian's kernel package ships no modules.dep (depmod runs at install time), so Coffer reads the
/// dependencies from the modules themselves. ELF layout: the ELF-64 header (e_shoff at 0x28,
/// e_shentsize 0x3A, e_shnum 0x3C, e_shstrndx 0x3E) and 64-byte section headers (sh_name +0,
/// sh_offset +0x18, sh_size +0x20), System V ABI / ELF-64 Object File Format, little-endian.
public struct ModuleInfo: Sendable, Equatable {
    /// The module's name (`name=`), as `depends=` of other modules spells it.
    public var name: String
    /// Modules that must be loaded first, by name.
    public var depends: [String]

    /// Parses a module file. Throws `VMMError.kernelModule` naming `path` when it is not an ELF-64
    /// little-endian object with a `.modinfo` section.
    public init(elf bytes: [UInt8], path: String) throws(VMMError) {
        do {
            let fields = try ModuleInfo.modinfoFields(bytes)
            let values = Dictionary(fields.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
            name = values["name"] ?? ModuleName.fromPath(path)
            depends = (values["depends"] ?? "").split(separator: ",").map(String.init)
        } catch let error as VMMError {
            throw error
        } catch {
            throw .kernelModule("\(path): \(error)")
        }
    }

    private static func modinfoFields(_ bytes: [UInt8]) throws -> [(String, String)] {
        var header = ByteReader(bytes)
        guard try header.read(4, "ELF magic") == [0x7F, 0x45, 0x4C, 0x46] else { throw VMMError.kernelModule("not an ELF file") }
        guard try header.readUInt8("EI_CLASS") == 2, try header.readUInt8("EI_DATA") == 1 else {
            throw VMMError.kernelModule("not a little-endian ELF-64 object")
        }
        var reader = ByteReader(bytes, offset: 0x28)
        let sectionTable = try reader.readUInt64LE("e_shoff")
        reader = ByteReader(bytes, offset: 0x3A)
        let entrySize = Int(try reader.readUInt16LE("e_shentsize"))
        let count = Int(try reader.readUInt16LE("e_shnum"))
        let namesIndex = Int(try reader.readUInt16LE("e_shstrndx"))
        guard entrySize >= 0x28, sectionTable < UInt64(bytes.count), namesIndex < count else {
            throw VMMError.kernelModule("section header table out of range")
        }
        func section(_ index: Int) throws -> (name: UInt32, offset: UInt64, size: UInt64) {
            var entry = ByteReader(bytes, offset: Int(sectionTable) + index * entrySize)
            let name = try entry.readUInt32LE("sh_name")
            try entry.skip(0x14, "sh_type..sh_addr")
            return (name, try entry.readUInt64LE("sh_offset"), try entry.readUInt64LE("sh_size"))
        }
        func slice(_ offset: UInt64, _ size: UInt64, _ what: String) throws -> ArraySlice<UInt8> {
            guard offset <= UInt64(bytes.count), size <= UInt64(bytes.count) - offset else {
                throw VMMError.kernelModule("\(what) lies outside the file")
            }
            return bytes[Int(offset)..<Int(offset + size)]
        }
        let names = try section(namesIndex)
        let nameTable = try slice(names.offset, names.size, "section name table")
        for index in 0..<count {
            let candidate = try section(index)
            guard candidate.name < UInt32(nameTable.count) else { continue }
            let start = nameTable.startIndex + Int(candidate.name)
            let name = nameTable[start...].prefix { $0 != 0 }
            guard name.elementsEqual(".modinfo".utf8) else { continue }
            let content = try slice(candidate.offset, candidate.size, ".modinfo")
            return content.split(separator: 0).compactMap { field in
                guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { return nil }
                return (String(decoding: field[..<equals], as: UTF8.self), String(decoding: field[(equals + 1)...], as: UTF8.self))
            }
        }
        throw VMMError.kernelModule("no .modinfo section")
    }
}

/// Module names as the kernel compares them: `-` and `_` are the same character.
public enum ModuleName {
    public static func normalized(_ name: some StringProtocol) -> String {
        String(name.map { $0 == "-" ? "_" : $0 })
    }

    /// `kernel/drivers/md/dm-verity.ko` → `dm_verity`.
    public static func fromPath(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        return normalized(file.hasSuffix(".ko") ? String(file.dropLast(3)) : file)
    }
}
