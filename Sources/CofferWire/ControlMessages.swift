import CofferCore

/// Client → launcher (host only, on a VM's control socket): stream the workload's output to this
/// client, and its stdin from it when `stdin` is set. Payload: `flags u8` (bit 0: stdin).
public struct AttachRequest: WireMessage {
    public static let kind = FrameKind.attach

    public var stdin: Bool

    public init(stdin: Bool) { self.stdin = stdin }

    public func write(to writer: inout ByteWriter) { writer.writeUInt8(stdin ? 1 : 0) }

    public init(reading reader: inout ByteReader) throws {
        let flags = try reader.readUInt8("flags")
        guard flags & ~1 == 0 else { throw FieldError("unknown flags \(flags)") }
        stdin = flags & 1 != 0
    }
}

/// Client → launcher: stop the VM — SIGTERM to the workload, and when it has not ended after
/// `seconds`, the VM is killed. Payload: `seconds u32`.
public struct StopRequest: WireMessage {
    public static let kind = FrameKind.stop

    public var seconds: UInt32

    public init(seconds: UInt32) { self.seconds = seconds }

    public func write(to writer: inout ByteWriter) { writer.writeUInt32BE(seconds) }

    public init(reading reader: inout ByteReader) throws { seconds = try reader.readUInt32BE("seconds") }
}
