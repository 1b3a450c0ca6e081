import CofferCore

/// Guest → host: the agent could not do what was asked; it powers off after sending this.
///
/// Payload: `reason` u8 | message (UTF-8, the rest of the payload).
public struct AgentFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: UInt8, Sendable {
        /// The verity root could not be set up or mounted.
        case root = 1
        /// The workload could not be started (no such program, not executable, bad user...).
        case start = 2
        /// A block of the root file system did not match the image's verity root hash.
        case integrity = 3
        /// The host sent something the agent refuses.
        case protocolViolation = 4
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }

    public var frame: Frame {
        // The message is the agent's own text; keep it far below the frame limit.
        Frame(.failure, [reason.rawValue] + Array(message.utf8.prefix(4096)))
    }

    public init(_ frame: Frame) throws(WireError) {
        guard frame.kind == .failure else { throw .unexpected(kind: frame.kind, expected: .failure) }
        guard let first = frame.payload.first, let reason = Reason(rawValue: first) else {
            throw .malformed(kind: .failure, reason: "unknown reason")
        }
        self.reason = reason
        message = String(decoding: frame.payload.dropFirst(), as: UTF8.self)
    }
}
