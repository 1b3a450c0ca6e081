import CofferCore

/// One message on the host-guest channel (docs/host-guest-protocol.md):
///
/// ```
///  0               4       5
///  +---------------+-------+----------------------+
///  | length (BE32) | kind  | payload (length B)   |
///  +---------------+-------+----------------------+
/// ```
///
/// `length` counts the payload only. The channel is a byte stream (a virtio-serial port on the
/// guest side, a Unix socket on the host side), so frames carry their own boundaries.
public struct Frame: Sendable, Equatable {
    /// The largest payload either side accepts.
    ///
    /// Bounds the memory a hostile peer can make the other side allocate with one length field;
    /// stdio is streamed in chunks far below it.
    public static let maxPayload = 1 << 20
    public static let headerSize = 5

    public var kind: FrameKind
    public var payload: [UInt8]

    public init(_ kind: FrameKind, _ payload: [UInt8] = []) {
        self.kind = kind
        self.payload = payload
    }

    /// The frame's bytes on the wire. Throws when the payload is larger than `maxPayload`, which
    /// the peer would refuse.
    public func encoded() throws(WireError) -> [UInt8] {
        guard payload.count <= Frame.maxPayload else {
            throw .payloadTooLarge(kind: kind, size: payload.count)
        }
        var writer = ByteWriter(capacity: Frame.headerSize + payload.count)
        writer.writeUInt32BE(UInt32(payload.count))
        writer.writeUInt8(kind.rawValue)
        writer.write(payload)
        return writer.bytes
    }
}

/// What a frame carries. Unknown kinds still decode as frames (so a newer peer's message can be
/// refused by name); the message layer decides what it accepts.
public struct FrameKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Guest → host: the agent is up and the channel works. Payload: `Ready`.
    public static let ready = FrameKind(rawValue: 0x01)
    /// Host → guest: start a process. Payload: `StartProcess`.
    public static let start = FrameKind(rawValue: 0x02)
    /// Guest → host: bytes a process wrote to its standard output. Payload: `ProcessOutput`.
    public static let stdout = FrameKind(rawValue: 0x03)
    /// Guest → host: bytes a process wrote to its standard error. Payload: `ProcessOutput`.
    public static let stderr = FrameKind(rawValue: 0x04)
    /// Guest → host: a process ended. Payload: `ProcessEnded`.
    public static let exit = FrameKind(rawValue: 0x05)
    /// Guest → host: the agent could not do what was asked. Payload: `AgentFailure`.
    public static let failure = FrameKind(rawValue: 0x06)
    /// Host → guest: standard input for a process. Payload: `StdinData`.
    public static let stdin = FrameKind(rawValue: 0x07)
    /// Host → guest: deliver a signal. Payload: `SignalProcess`.
    public static let signal = FrameKind(rawValue: 0x08)
    /// Host → guest: a terminal's new size. Payload: `TerminalSize`.
    public static let resize = FrameKind(rawValue: 0x09)
    /// Guest → host: a process started. Payload: `ProcessStarted`.
    public static let started = FrameKind(rawValue: 0x0A)
    /// Host → guest: the guest's host name. Payload: `GuestHostname`.
    public static let hostname = FrameKind(rawValue: 0x0B)
    /// Host → guest: produce evidence binding report data. Payload: `AttestRequest`.
    public static let attest = FrameKind(rawValue: 0x0C)
    /// Guest → host: the answer to `attest`. Payload: `GuestEvidence`.
    public static let evidence = FrameKind(rawValue: 0x0D)
    /// Host → guest: the launch's init-data, before `start`. Payload: `InitDataMessage`.
    public static let initData = FrameKind(rawValue: 0x0E)
    /// Guest → host: an HTTP request for the key broker. Payload: `BrokerRequest`.
    public static let brokerRequest = FrameKind(rawValue: 0x0F)
    /// Host → guest: the broker's answer. Payload: `BrokerResponse`.
    public static let brokerResponse = FrameKind(rawValue: 0x10)
    /// Guest → host (development mode): sign sample evidence. Payload: `SampleEvidenceRequest`.
    public static let sampleEvidenceRequest = FrameKind(rawValue: 0x11)
    /// Host → guest: the sample evidence. Payload: `SampleEvidenceResponse`.
    public static let sampleEvidence = FrameKind(rawValue: 0x12)
    /// Client → launcher (host only): attach to the workload. Payload: `AttachRequest`.
    public static let attach = FrameKind(rawValue: 0x40)
    /// Client → launcher (host only): stop the VM. Payload: `StopRequest`.
    public static let stop = FrameKind(rawValue: 0x41)

    public var description: String {
        switch self {
        case .ready: "ready"
        case .start: "start"
        case .stdout: "stdout"
        case .stderr: "stderr"
        case .exit: "exit"
        case .failure: "failure"
        case .stdin: "stdin"
        case .signal: "signal"
        case .resize: "resize"
        case .started: "started"
        case .hostname: "hostname"
        case .attest: "attest"
        case .evidence: "evidence"
        case .initData: "init-data"
        case .brokerRequest: "kbs-request"
        case .brokerResponse: "kbs-response"
        case .sampleEvidenceRequest: "sample-evidence-request"
        case .sampleEvidence: "sample-evidence"
        case .attach: "attach"
        case .stop: "stop"
        default: "kind 0x\(Hex.encode([rawValue]))"
        }
    }
}
