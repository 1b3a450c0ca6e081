import CofferCore

/// A message carried in one frame of a fixed kind: its payload layout is `write(to:)`, and
/// `init(reading:)` parses it back, refusing what the layout does not allow.
///
/// The frame-level checks (kind, trailing bytes, errors named by kind) live here once, so each
/// message only states its fields.
public protocol WireMessage: Sendable, Equatable {
    static var kind: FrameKind { get }
    func write(to writer: inout ByteWriter)
    /// Reads the fields in order. Throws `FieldError` (or `ByteReader.Truncated`) for a value the
    /// layout does not allow.
    init(reading reader: inout ByteReader) throws
}

extension WireMessage {
    public var frame: Frame {
        var writer = ByteWriter()
        write(to: &writer)
        return Frame(Self.kind, writer.bytes)
    }

    /// Parses a frame of this message's kind; anything left after the last field is refused.
    public init(_ frame: Frame) throws(WireError) {
        guard frame.kind == Self.kind else { throw .unexpected(kind: frame.kind, expected: Self.kind) }
        var reader = ByteReader(frame.payload)
        do {
            self = try Self(reading: &reader)
        } catch let error as WireError {
            throw error
        } catch {
            throw .malformed(kind: Self.kind, reason: "\(error)")
        }
        guard reader.isAtEnd else { throw .malformed(kind: Self.kind, reason: "\(reader.remaining) trailing bytes") }
    }
}

/// A field whose value the message layout does not allow.
public struct FieldError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Which process a message is about. The workload the VM was started for is `main` (1); the
/// launcher numbers the processes it execs from 2. 0 names no process (the agent itself).
public struct ProcessID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let agent = ProcessID(0)
    public static let main = ProcessID(1)

    public var description: String { self == .main ? "the workload" : self == .agent ? "the agent" : "process \(rawValue)" }
}

extension ByteWriter {
    mutating func write(_ id: ProcessID) { writeUInt32BE(id.rawValue) }
}

extension ByteReader {
    mutating func readProcessID() throws -> ProcessID { ProcessID(try readUInt32BE("process id")) }

    mutating func readRest() -> [UInt8] { (try? read(remaining, "bytes")) ?? [] }
}
