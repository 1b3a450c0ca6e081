import CofferCore

/// How a process ended: its exit status or the signal that killed it.
public enum ProcessExit: Sendable, Equatable, CustomStringConvertible {
    case exited(UInt8)
    case signaled(UInt8)

    /// The status a shell reports: the exit status, or 128 + the signal.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let status): Int32(status)
        case .signaled(let signal): 128 + Int32(signal)
        }
    }

    public var description: String {
        switch self {
        case .exited(let status): "exited with status \(status)"
        case .signaled(let signal): "killed by signal \(signal)"
        }
    }
}

/// Guest → host: a process ended. Payload: `id u32 | how u8 (0 exited, 1 signaled) | value u32`
/// (status 0-255 or signal 1-64). All of the process's output precedes it on the channel.
public struct ProcessEnded: WireMessage {
    public static let kind = FrameKind.exit

    public var id: ProcessID
    public var exit: ProcessExit

    public init(_ id: ProcessID, _ exit: ProcessExit) {
        self.id = id
        self.exit = exit
    }

    public func write(to writer: inout ByteWriter) {
        writer.write(id)
        switch exit {
        case .exited(let status):
            writer.writeUInt8(0)
            writer.writeUInt32BE(UInt32(status))
        case .signaled(let signal):
            writer.writeUInt8(1)
            writer.writeUInt32BE(UInt32(signal))
        }
    }

    public init(reading reader: inout ByteReader) throws {
        id = try reader.readProcessID()
        let how = try reader.readUInt8("how")
        let value = try reader.readUInt32BE("value")
        switch how {
        case 0 where value <= 255: exit = .exited(UInt8(value))
        case 1 where value >= 1 && value <= 64: exit = .signaled(UInt8(value))
        default: throw FieldError("how \(how) with value \(value)")
        }
    }
}
