/// A cursor over untrusted bytes whose every read is bounds checked and throws instead of trapping.
///
/// Evidence, tar headers, ELF files and messages from the host are hostile input: a length field
/// that points past the end must produce an error naming the field, never a crash.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int

    /// Reading `field` needed `needed` bytes at `offset` but only `available` remained.
    public struct Truncated: Error, Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var offset: Int
        public var needed: Int
        public var available: Int
        public var description: String {
            "truncated at \(field): needed \(needed) bytes at offset \(offset), \(available) available"
        }
    }

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = max(0, min(offset, bytes.count))
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    private func check(_ count: Int, _ field: String) throws(Truncated) {
        guard count >= 0, count <= remaining else {
            throw Truncated(field: field, offset: offset, needed: count, available: remaining)
        }
    }

    public mutating func read(_ count: Int, _ field: String = "bytes") throws(Truncated) -> [UInt8] {
        try check(count, field)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    public mutating func skip(_ count: Int, _ field: String = "padding") throws(Truncated) {
        try check(count, field)
        offset += count
    }

    public mutating func readUInt8(_ field: String = "u8") throws(Truncated) -> UInt8 {
        try check(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt16LE(_ field: String = "u16") throws(Truncated) -> UInt16 {
        UInt16(truncatingIfNeeded: try readLE(2, field))
    }

    public mutating func readUInt32LE(_ field: String = "u32") throws(Truncated) -> UInt32 {
        UInt32(truncatingIfNeeded: try readLE(4, field))
    }

    public mutating func readUInt64LE(_ field: String = "u64") throws(Truncated) -> UInt64 {
        try readLE(8, field)
    }

    public mutating func readUInt16BE(_ field: String = "u16") throws(Truncated) -> UInt16 {
        UInt16(truncatingIfNeeded: try readBE(2, field))
    }

    public mutating func readUInt32BE(_ field: String = "u32") throws(Truncated) -> UInt32 {
        UInt32(truncatingIfNeeded: try readBE(4, field))
    }

    public mutating func readUInt64BE(_ field: String = "u64") throws(Truncated) -> UInt64 {
        try readBE(8, field)
    }

    private mutating func readLE(_ width: Int, _ field: String) throws(Truncated) -> UInt64 {
        try check(width, field)
        var value: UInt64 = 0
        for i in 0..<width { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += width
        return value
    }

    private mutating func readBE(_ width: Int, _ field: String) throws(Truncated) -> UInt64 {
        try check(width, field)
        var value: UInt64 = 0
        for i in 0..<width { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += width
        return value
    }
}
