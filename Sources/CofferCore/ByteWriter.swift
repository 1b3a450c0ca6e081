/// Appends fixed-width integers and byte strings in a stated byte order.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ data: some Sequence<UInt8>) { bytes.append(contentsOf: data) }
    public mutating func writeZeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: max(0, count))) }
    public mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }
    public mutating func writeUInt16LE(_ value: UInt16) { writeLE(UInt64(value), 2) }
    public mutating func writeUInt32LE(_ value: UInt32) { writeLE(UInt64(value), 4) }
    public mutating func writeUInt64LE(_ value: UInt64) { writeLE(value, 8) }
    public mutating func writeUInt16BE(_ value: UInt16) { writeBE(UInt64(value), 2) }
    public mutating func writeUInt32BE(_ value: UInt32) { writeBE(UInt64(value), 4) }
    public mutating func writeUInt64BE(_ value: UInt64) { writeBE(value, 8) }

    /// Writes `data` and pads with zeros to `width` bytes; longer data is a caller bug and is cut.
    public mutating func writeFixed(_ data: [UInt8], width: Int) {
        bytes.append(contentsOf: data.prefix(width))
        writeZeros(width - min(width, data.count))
    }

    private mutating func writeLE(_ value: UInt64, _ width: Int) {
        for i in 0..<width { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    private mutating func writeBE(_ value: UInt64, _ width: Int) {
        for i in (0..<width).reversed() { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}
