/// One 512-byte tar header block, decoded field by field.
///
/// Layout (POSIX.1-2017, pax, "ustar Interchange Format", Table: ustar Header Block):
/// ```
///  offset size field          offset size field
///       0  100 name              257    6 magic ("ustar\0"; GNU: "ustar ")
///     100    8 mode              263    2 version
///     108    8 uid               265   32 uname
///     116    8 gid               297   32 gname
///     124   12 size              329    8 devmajor
///     136   12 mtime             337    8 devminor
///     148    8 chksum            345  155 prefix (POSIX only; GNU keeps times here)
///     156    1 typeflag          500   12 (padding)
///     157  100 linkname
/// ```
/// Numeric fields are octal text, or GNU base-256 (high bit of the first byte set) when the value
/// does not fit.
struct TarHeader {
    static let blockSize = 512

    var name: [UInt8]
    var mode: UInt64
    var uid: UInt64
    var gid: UInt64
    var size: UInt64
    var mtime: Int64
    var checksum: UInt64
    var typeflag: UInt8
    var linkname: [UInt8]
    var magic: [UInt8]
    var devmajor: UInt64
    var devminor: UInt64
    var prefix: [UInt8]

    /// True for an all-zero block, which marks the end of the archive.
    static func isZeroBlock(_ block: UnsafeRawBufferPointer) -> Bool {
        !block.contains(where: { $0 != 0 })
    }

    /// Decodes a header block and verifies its checksum.
    /// - Throws: `TarHeader.FieldError` naming the bad field, or `.checksum`.
    init(block: UnsafeRawBufferPointer) throws(FieldError) {
        guard block.count == Self.blockSize else { throw .truncated }
        func bytes(_ offset: Int, _ count: Int) -> [UInt8] {
            let field = block[offset..<(offset + count)]
            return Array(field.prefix(while: { $0 != 0 }))
        }
        do { checksum = try Self.number(block, 148, 8, "chksum") } catch { throw .checksum }
        /// The checksum is the sum of the header's bytes with the chksum field read as spaces;
        /// some old writers summed signed bytes, so both sums are accepted.
        var unsigned: UInt64 = 0
        var signed: Int64 = 0
        for i in 0..<Self.blockSize {
            let byte = (148..<156).contains(i) ? UInt8(ascii: " ") : block[i]
            unsigned &+= UInt64(byte)
            signed &+= Int64(Int8(bitPattern: byte))
        }
        guard checksum == unsigned || Int64(bitPattern: checksum) == signed else { throw .checksum }

        name = bytes(0, 100)
        mode = try Self.number(block, 100, 8, "mode")
        uid = try Self.number(block, 108, 8, "uid")
        gid = try Self.number(block, 116, 8, "gid")
        size = try Self.number(block, 124, 12, "size")
        mtime = Int64(clamping: try Self.number(block, 136, 12, "mtime"))
        typeflag = block[156]
        linkname = bytes(157, 100)
        magic = Array(block[257..<265])
        devmajor = try Self.number(block, 329, 8, "devmajor")
        devminor = try Self.number(block, 337, 8, "devminor")
        prefix = bytes(345, 155)
    }

    /// POSIX ustar ("ustar\0" "00") keeps a name prefix; the GNU format ("ustar  \0") does not.
    var isPOSIXUstar: Bool { magic.starts(with: Array("ustar\0".utf8)) }

    /// The member name with the ustar prefix joined on.
    var fullName: [UInt8] {
        guard isPOSIXUstar, !prefix.isEmpty else { return name }
        return prefix + [UInt8(ascii: "/")] + name
    }

    enum FieldError: Error, Equatable {
        case truncated
        case checksum
        case badNumber(field: String)
    }

    /// Reads a numeric field: octal digits (leading spaces, trailing spaces or NULs), or base-256
    /// big-endian when the first byte's high bit is set. Negative base-256 values are refused.
    static func number(_ block: UnsafeRawBufferPointer, _ offset: Int, _ count: Int, _ field: String) throws(FieldError) -> UInt64 {
        let first = block[offset]
        if first & 0x80 != 0 {
            guard first & 0x40 == 0 else { throw .badNumber(field: field) }
            var value = UInt64(first & 0x3F)
            for i in (offset + 1)..<(offset + count) {
                guard value >> 56 == 0 else { throw .badNumber(field: field) }
                value = value << 8 | UInt64(block[i])
            }
            return value
        }
        var value: UInt64 = 0
        var i = offset
        let end = offset + count
        while i < end, block[i] == UInt8(ascii: " ") { i += 1 }
        while i < end, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(block[i]) {
            guard value >> 61 == 0 else { throw .badNumber(field: field) }
            value = value << 3 | UInt64(block[i] - UInt8(ascii: "0"))
            i += 1
        }
        while i < end {
            guard block[i] == 0 || block[i] == UInt8(ascii: " ") else { throw .badNumber(field: field) }
            i += 1
        }
        return value
    }
}
