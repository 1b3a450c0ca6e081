/// Cuts a byte stream into frames. Bytes arrive in whatever pieces the transport delivers; a
/// frame is returned once all of it is buffered.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received but not yet part of a returned frame.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    ///
    /// Throws as soon as a header announces a payload above `Frame.maxPayload`, before buffering
    /// it: a peer cannot make this side hold more than one maximal frame.
    public mutating func next() throws(WireError) -> Frame? {
        guard bufferedCount >= Frame.headerSize else { return nil }
        let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16
            | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        let kind = FrameKind(rawValue: buffer[start + 4])
        guard length <= Frame.maxPayload else { throw .payloadTooLarge(kind: kind, size: length) }
        guard bufferedCount - Frame.headerSize >= length else { return nil }
        let payloadStart = start + Frame.headerSize
        let frame = Frame(kind, Array(buffer[payloadStart..<payloadStart + length]))
        start = payloadStart + length
        compact()
        return frame
    }

    /// Drops consumed bytes once they dominate the buffer, so a long stream stays O(n).
    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 4096, start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
