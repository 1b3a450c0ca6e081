import CofferSys
import CofferWire
import Glibc

/// How provisioning reaches the key broker: one request, its answer. In the guest it is the
/// host's relay over the agent channel (`HostRelay`); a test may drive it directly.
protocol BrokerChannel {
    /// Sends one request the agent composed and returns the broker's answer to it (or the relay's
    /// status-0 failure). Throws `.protocolViolation` for an answer that is not to this request.
    mutating func exchange(_ method: BrokerRequest.Method, _ path: String, cookie: String, body: [UInt8]) throws(AgentFailure) -> BrokerResponse
    /// Development mode: the launcher's sample evidence over `reportData` (empty: it will not sign).
    mutating func sampleEvidence(reportData: [UInt8]) throws(AgentFailure) -> [UInt8]
}

/// The host's relay (decision 0022 §4): `kbs-request` out, the `kbs-response` with the same id
/// back, within `deadlineMilliseconds`. It reads the agent channel itself while the workload has
/// not started, so the frames the host sends meanwhile for later (`stdin`, `signal`, `resize`,
/// `hostname`, an exec's `start`) are kept in `deferred`, in order, for the request loop.
///
/// Security: the relay is the host, which may reorder, replay or invent answers. An answer with
/// another id, one nobody asked for, or sample evidence nobody asked for is a protocol violation
/// (the host is playing games); what an answer says is checked by `BrokerSession`, never trusted here.
struct HostRelay: BrokerChannel {
    static let deadlineMilliseconds = 30_000
    /// Frames held for after the workload starts; a host that sends more is flooding.
    static let maximumDeferred = 1024

    let port: FileDescriptor
    var decoder: FrameDecoder
    private(set) var deferred: [Frame] = []
    private var nextID: UInt32 = 1
    private var buffer = [UInt8](repeating: 0, count: 32768)
    let deadline: Int

    init(port: FileDescriptor, decoder: FrameDecoder, deadlineMilliseconds: Int = HostRelay.deadlineMilliseconds) {
        self.port = port
        self.decoder = decoder
        deadline = deadlineMilliseconds
    }

    mutating func exchange(_ method: BrokerRequest.Method, _ path: String, cookie: String, body: [UInt8]) throws(AgentFailure) -> BrokerResponse {
        let id = nextID
        nextID &+= 1
        try send(BrokerRequest(id: id, method: method, path: path, cookie: cookie, body: body).frame)
        let response: BrokerResponse
        do { response = try BrokerResponse(try awaitFrame(.brokerResponse, what: "the broker's answer to \(method.name) \(path)")) } catch let failure as AgentFailure {
            throw failure
        } catch {
            throw AgentFailure(.protocolViolation, "the relay's answer to \(method.name) \(path): \(error)")
        }
        guard response.id == id else {
            throw AgentFailure(
                .protocolViolation, "the host answered broker request \(response.id) while the agent awaited request \(id) (\(method.name) \(path)): a relay that reorders or invents answers")
        }
        return response
    }

    mutating func sampleEvidence(reportData: [UInt8]) throws(AgentFailure) -> [UInt8] {
        try send(SampleEvidenceRequest(reportData: reportData).frame)
        do { return try SampleEvidenceResponse(try awaitFrame(.sampleEvidence, what: "sample evidence")).evidence } catch let failure as AgentFailure {
            throw failure
        } catch {
            throw AgentFailure(.protocolViolation, "the relay's sample evidence: \(error)")
        }
    }

    private func send(_ frame: Frame) throws(AgentFailure) {
        do { try port.writeAll(try frame.encoded()) } catch { throw AgentFailure(.channel, "the agent channel: \(error)") }
    }

    /// Reads the channel until a frame of `kind` arrives, deferring the host's other requests.
    private mutating func awaitFrame(_ kind: FrameKind, what: String) throws(AgentFailure) -> Frame {
        let start = Self.now()
        while true {
            do {
                while let frame = try decoder.next() {
                    switch frame.kind {
                    case kind: return frame
                    case .brokerResponse:
                        throw AgentFailure(.protocolViolation, "the host sent a broker answer the agent did not ask for (it awaited \(what))")
                    case .sampleEvidence:
                        throw AgentFailure(.protocolViolation, "the host sent sample evidence the agent did not ask for (it awaited \(what))")
                    default:
                        guard deferred.count < Self.maximumDeferred else {
                            throw AgentFailure(.protocolViolation, "the host sent more than \(Self.maximumDeferred) frames while the agent awaited \(what)")
                        }
                        deferred.append(frame)
                    }
                }
            } catch let failure as AgentFailure {
                throw failure
            } catch {
                throw AgentFailure(.protocolViolation, "\(error)")
            }
            let remaining = deadline - (Self.now() - start)
            guard remaining > 0 else { throw AgentFailure(.broker, "the host did not relay \(what) within \(deadline / 1000) s") }
            var watched = pollfd(fd: port.rawValue, events: Int16(POLLIN), revents: 0)
            let ready = poll(&watched, 1, Int32(remaining))
            if ready < 0 && errno != EINTR { throw AgentFailure(.channel, "poll on the agent channel: \(String(cString: strerror(errno)))") }
            guard ready > 0 else { continue }
            let fd = port.rawValue
            // Sound: reads at most buffer.count bytes into memory `buffer` owns.
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard count > 0 else { throw AgentFailure(.protocolViolation, "the host closed the agent channel while the agent awaited \(what)") }
            decoder.append(buffer[0..<count])
        }
    }

    /// Milliseconds of the monotonic clock.
    private static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
    }
}
