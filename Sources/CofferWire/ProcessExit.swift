import CofferCore

/// Guest → host: how the workload ended.
///
/// Payload: `how` u8 (0 = exited, 1 = killed by a signal) | `value` u32 (exit status 0-255 or
/// signal number 1-64).
public enum ProcessExit: Sendable, Equatable, CustomStringConvertible {
    case exited(UInt8)
    case signaled(UInt8)

    public var frame: Frame {
        switch self {
        case .exited(let status): Frame(.exit, [0, 0, 0, 0, status])
        case .signaled(let signal): Frame(.exit, [1, 0, 0, 0, signal])
        }
    }

    /// The exit status a shell would report: the status, or 128 + the signal.
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

    public init(_ frame: Frame) throws(WireError) {
        guard frame.kind == .exit else { throw .unexpected(kind: frame.kind, expected: .exit) }
        var reader = ByteReader(frame.payload)
        let how: UInt8, value: UInt32
        do {
            how = try reader.readUInt8("how")
            value = try reader.readUInt32BE("value")
        } catch {
            throw .malformed(kind: .exit, reason: "\(error)")
        }
        guard reader.isAtEnd else { throw .malformed(kind: .exit, reason: "\(reader.remaining) trailing bytes") }
        switch how {
        case 0 where value <= 255: self = .exited(UInt8(value))
        case 1 where value >= 1 && value <= 64: self = .signaled(UInt8(value))
        default: throw .malformed(kind: .exit, reason: "how \(how) with value \(value)")
        }
    }
}
