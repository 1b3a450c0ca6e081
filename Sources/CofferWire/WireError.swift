import CofferCore

/// What can be wrong with bytes received on the host-guest channel.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible, CofferErrorConvertible {
    /// A frame announced a payload above `Frame.maxPayload`.
    case payloadTooLarge(kind: FrameKind, size: Int)
    /// A frame of the right kind whose payload does not parse.
    case malformed(kind: FrameKind, reason: String)
    /// A frame of a kind the receiver does not accept at this point.
    case unexpected(kind: FrameKind, expected: FrameKind)
    /// The peer speaks another protocol version.
    case versionMismatch(peer: UInt16, ours: UInt16)

    public var description: String {
        switch self {
        case .payloadTooLarge(let kind, let size):
            "\(kind) frame announces \(size) payload bytes, more than the \(Frame.maxPayload) allowed"
        case .malformed(let kind, let reason): "malformed \(kind) frame: \(reason)"
        case .unexpected(let kind, let expected): "expected a \(expected) frame, received \(kind)"
        case .versionMismatch(let peer, let ours):
            "the peer speaks host-guest protocol version \(peer), this side version \(ours)"
        }
    }

    public var cofferError: CofferError { CofferError(.invalidInput, "host-guest channel: \(description)") }
}
