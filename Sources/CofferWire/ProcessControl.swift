import CofferCore

/// Host → guest: deliver a signal to a process. Payload: `id u32 | signal u8` (1-64).
public struct SignalProcess: WireMessage {
    public static let kind = FrameKind.signal

    public var id: ProcessID
    public var signal: UInt8

    public init(_ id: ProcessID, signal: UInt8) {
        self.id = id
        self.signal = signal
    }

    public func write(to writer: inout ByteWriter) {
        writer.write(id)
        writer.writeUInt8(signal)
    }

    public init(reading reader: inout ByteReader) throws {
        id = try reader.readProcessID()
        signal = try reader.readUInt8("signal")
        guard (1...64).contains(signal) else { throw FieldError("signal \(signal) is not between 1 and 64") }
    }
}

/// Host → guest: a tty process's terminal changed size. Payload: `id u32 | rows u16 | cols u16`.
public struct TerminalSize: WireMessage {
    public static let kind = FrameKind.resize

    public var id: ProcessID
    public var rows: UInt16
    public var cols: UInt16

    public init(_ id: ProcessID, rows: UInt16, cols: UInt16) {
        self.id = id
        self.rows = rows
        self.cols = cols
    }

    public func write(to writer: inout ByteWriter) {
        writer.write(id)
        writer.writeUInt16BE(rows)
        writer.writeUInt16BE(cols)
    }

    public init(reading reader: inout ByteReader) throws {
        id = try reader.readProcessID()
        rows = try reader.readUInt16BE("rows")
        cols = try reader.readUInt16BE("cols")
    }
}

/// Guest → host: a process was started. Payload: `id u32 | pid u32` (its pid in the guest).
public struct ProcessStarted: WireMessage {
    public static let kind = FrameKind.started

    public var id: ProcessID
    public var pid: UInt32

    public init(_ id: ProcessID, pid: UInt32) {
        self.id = id
        self.pid = pid
    }

    public func write(to writer: inout ByteWriter) {
        writer.write(id)
        writer.writeUInt32BE(pid)
    }

    public init(reading reader: inout ByteReader) throws {
        id = try reader.readProcessID()
        pid = try reader.readUInt32BE("pid")
    }
}

/// Host → guest, before the first `start`: the guest's host name (at most 64 bytes, letters,
/// digits, '-' and '.'), as `hostname(1)` inside shows it.
public struct GuestHostname: WireMessage {
    public static let kind = FrameKind.hostname

    public var name: String

    public init(_ name: String) { self.name = name }

    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) || $0 == 0x2d || $0 == 0x2e }
    }

    public func write(to writer: inout ByteWriter) { writer.writeString(name) }

    public init(reading reader: inout ByteReader) throws {
        name = try reader.readString("hostname")
        guard Self.isValid(name) else { throw FieldError("host name \(name) is not 1-64 letters, digits, '-' or '.'") }
    }
}
