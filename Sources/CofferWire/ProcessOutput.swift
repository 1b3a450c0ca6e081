import CofferCore

/// Guest → host: bytes a process wrote to its standard output (`stdout` frame) or error
/// (`stderr` frame). Payload: `id u32 | bytes`. With a tty, everything is `stdout`.
public struct ProcessOutput: Sendable, Equatable {
    public enum Stream: Sendable { case stdout, stderr }

    public var id: ProcessID
    public var stream: Stream
    public var bytes: [UInt8]

    public init(_ id: ProcessID, _ stream: Stream, _ bytes: [UInt8]) {
        self.id = id
        self.stream = stream
        self.bytes = bytes
    }

    public var frame: Frame {
        var writer = ByteWriter(capacity: 4 + bytes.count)
        writer.write(id)
        writer.write(bytes)
        return Frame(stream == .stdout ? .stdout : .stderr, writer.bytes)
    }

    public init(_ frame: Frame) throws(WireError) {
        switch frame.kind {
        case .stdout: stream = .stdout
        case .stderr: stream = .stderr
        default: throw .unexpected(kind: frame.kind, expected: .stdout)
        }
        var reader = ByteReader(frame.payload)
        do { id = try reader.readProcessID() } catch { throw .malformed(kind: frame.kind, reason: "\(error)") }
        bytes = reader.readRest()
    }
}

/// Host → guest: bytes for a process's standard input. Payload: `id u32 | bytes`; no bytes means
/// end of input (the agent closes the process's stdin).
public struct StdinData: WireMessage {
    public static let kind = FrameKind.stdin

    public var id: ProcessID
    public var bytes: [UInt8]

    public init(_ id: ProcessID, _ bytes: [UInt8]) {
        self.id = id
        self.bytes = bytes
    }

    public func write(to writer: inout ByteWriter) {
        writer.write(id)
        writer.write(bytes)
    }

    public init(reading reader: inout ByteReader) throws {
        id = try reader.readProcessID()
        bytes = reader.readRest()
    }
}
