import CofferCore

/// Guest → host (and launcher → client): something asked for could not be done.
///
/// Payload: `id u32 | reason u8 | message (UTF-8, the rest)`. `id` 0 is the agent itself (the VM
/// is over); another id is one process that could not be started, and the VM goes on.
public struct AgentFailure: WireMessage, Error, CustomStringConvertible {
    public static let kind = FrameKind.failure

    public enum Reason: UInt8, Sendable {
        /// The dm-verity root could not be set up.
        case root = 1
        /// The process could not be started (not found, bad user, exec failed).
        case start = 2
        /// A block of the root file system did not match the measured root hash.
        case integrity = 3
        /// The peer broke the protocol.
        case protocolViolation = 4
        /// The image's measured exec policy does not allow this process.
        case denied = 5
        /// The launcher's side: the VM did not boot, QEMU died, the VM is not running.
        case vm = 6
        /// The guest's network (loopback, eth0, /etc/resolv.conf) could not be set up.
        case network = 7
    }

    public var id: ProcessID
    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String, id: ProcessID = .agent) {
        self.id = id
        self.reason = reason
        self.message = message
    }

    public var description: String { message }

    public func write(to writer: inout ByteWriter) {
        writer.write(id)
        writer.writeUInt8(reason.rawValue)
        // The message is the sender's own text; keep it far below the frame limit.
        writer.write(Array(message.utf8.prefix(4096)))
    }

    public init(reading reader: inout ByteReader) throws {
        id = try reader.readProcessID()
        let value = try reader.readUInt8("reason")
        guard let reason = Reason(rawValue: value) else { throw FieldError("unknown reason \(value)") }
        self.reason = reason
        message = String(decoding: reader.readRest(), as: UTF8.self)
    }
}
