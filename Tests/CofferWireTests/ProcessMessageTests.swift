import CofferCore
import CofferWire
import Testing

/// The process messages (protocol version 3): each round trips with its documented layout, and
/// hostile payloads are refused with an error rather than trusted or trapped on.
@Suite struct ProcessMessageTests {
    let start = StartProcess(
        id: ProcessID(7), argv: ["/bin/sh", "-c", "echo hé; exit 3"], env: ["PATH=/bin", "EMPTY="], cwd: "/srv", user: "alice:staff",
        tty: true, stdin: true, rows: 50, cols: 132)

    @Test func startRoundTripsWithItsDocumentedLayout() throws {
        let frame = start.frame
        #expect(frame.kind == .start)
        // id 7, flags tty|stdin, rows 50, cols 132, then the user string.
        #expect(Array(frame.payload.prefix(9)) == [0, 0, 0, 7, 3, 0, 50, 0, 132])
        #expect(Array(frame.payload[9..<24]) == [0, 0, 0, 11] + Array("alice:staff".utf8))
        #expect(try StartProcess(frame) == start)
    }

    @Test func startRefusesHostilePayloads() throws {
        let payload = start.frame.payload
        #expect(throws: WireError.self) { try StartProcess(Frame(.start, payload + [0])) }
        #expect(throws: WireError.self) { try StartProcess(Frame(.start, Array(payload.dropLast()))) }
        var flags = payload
        flags[4] = 0x80
        #expect(throws: WireError.self) { try StartProcess(Frame(.start, flags)) }
        var agent = payload
        agent[3] = 0
        #expect(throws: WireError.self) { try StartProcess(Frame(.start, agent)) }
        #expect(throws: WireError.self) { try StartProcess(StartProcess(argv: [], env: [], cwd: "/").frame) }
        #expect(throws: WireError.self) { try StartProcess(StartProcess(argv: ["/x"], env: [], cwd: "relative").frame) }
        #expect(throws: WireError.self) { try StartProcess(StartProcess(argv: ["/x\u{0}y"], env: [], cwd: "/").frame) }
        #expect(throws: WireError.self) { try StartProcess(Frame(.exit, payload)) }
        // A count that promises more strings than bytes follow is refused before allocating.
        var huge = ByteWriter()
        huge.write([0, 0, 0, 1, 0, 0, 24, 0, 80, 0, 0, 0, 0, 0, 0, 0, 1, 0x2f, 0xff, 0xff, 0xff, 0xff])
        #expect(throws: WireError.self) { try StartProcess(Frame(.start, huge.bytes)) }
    }

    @Test func exitCarriesTheProcessAndHowItEnded() throws {
        #expect(ProcessEnded(ProcessID(2), .exited(7)).frame.payload == [0, 0, 0, 2, 0, 0, 0, 0, 7])
        #expect(try ProcessEnded(ProcessEnded(.main, .exited(7)).frame) == ProcessEnded(.main, .exited(7)))
        #expect(try ProcessEnded(ProcessEnded(.main, .signaled(9)).frame).exit == .signaled(9))
        #expect(ProcessExit.signaled(9).shellStatus == 137)
        #expect(ProcessExit.exited(255).shellStatus == 255)
        #expect(throws: WireError.self) { try ProcessEnded(Frame(.exit, [0, 0, 0, 1, 0, 0, 0, 1, 0])) }
        #expect(throws: WireError.self) { try ProcessEnded(Frame(.exit, [0, 0, 0, 1, 1, 0, 0, 0, 0])) }
        #expect(throws: WireError.self) { try ProcessEnded(Frame(.exit, [0, 0, 0, 1, 2, 0, 0, 0, 1])) }
        #expect(throws: WireError.self) { try ProcessEnded(Frame(.exit, [0, 0, 0, 1, 0])) }
    }

    @Test func streamsSignalsAndSizesRoundTrip() throws {
        let output = ProcessOutput(ProcessID(3), .stderr, Array("oops\n".utf8))
        #expect(output.frame.kind == .stderr)
        #expect(try ProcessOutput(output.frame) == output)
        #expect(throws: WireError.self) { try ProcessOutput(Frame(.stdout, [0, 0])) }
        let input = StdinData(.main, [1, 2, 3])
        #expect(try StdinData(input.frame) == input)
        #expect(try StdinData(StdinData(.main, []).frame).bytes.isEmpty)
        #expect(try SignalProcess(SignalProcess(.main, signal: 15).frame) == SignalProcess(.main, signal: 15))
        #expect(throws: WireError.self) { try SignalProcess(Frame(.signal, [0, 0, 0, 1, 0])) }
        #expect(throws: WireError.self) { try SignalProcess(Frame(.signal, [0, 0, 0, 1, 65])) }
        #expect(try TerminalSize(TerminalSize(.main, rows: 40, cols: 100).frame) == TerminalSize(.main, rows: 40, cols: 100))
        #expect(try ProcessStarted(ProcessStarted(ProcessID(4), pid: 42).frame) == ProcessStarted(ProcessID(4), pid: 42))
    }

    @Test func failureNamesItsProcessAndReason() throws {
        let failure = AgentFailure(.denied, "not allowed", id: ProcessID(2))
        #expect(failure.frame.payload == [0, 0, 0, 2, 5] + Array("not allowed".utf8))
        #expect(try AgentFailure(failure.frame) == failure)
        #expect(throws: WireError.self) { try AgentFailure(Frame(.failure, [0, 0, 0, 0, 99])) }
        #expect(throws: WireError.self) { try AgentFailure(Frame(.failure, [0, 0, 0, 0, 0])) }
        #expect(throws: WireError.self) { try AgentFailure(Frame(.failure, [0, 0])) }
    }

    /// Golden: the reason codes on the wire (docs/host-guest-protocol.md, `failure`), and the names
    /// `coffer ps` shows. 1–7 are protocol version 2's and keep their numbers; 8–16 came with 3.
    @Test func failureReasonCodesAndNamesAreTheDocumentedOnes() throws {
        let documented: [(UInt8, String)] = [
            (1, "root"), (2, "start"), (3, "integrity"), (4, "protocol"), (5, "denied"), (6, "vm"), (7, "network"),
            (8, "base-filesystems"), (9, "modules"), (10, "channel"), (11, "cmdline"), (12, "exec-policy"), (13, "workload"),
            (14, "overlay"), (15, "workload-filesystems"), (16, "init-data"), (17, "broker"), (18, "secrets"), (19, "volume"),
        ]
        #expect(AgentFailure.Reason.allCases.map { ($0.rawValue, $0.name) }.elementsEqual(documented) { $0 == $1 })
        for (code, name) in documented {
            let decoded = try AgentFailure(Frame(.failure, [0, 0, 0, 0, code] + Array("m".utf8)))
            #expect(decoded.reason.name == name)
            #expect(decoded.frame.payload == [0, 0, 0, 0, code, 0x6D])
        }
        // Every reason a start-up step fails with says what the agent was doing; the others do not.
        let steps = AgentFailure.Reason.allCases.filter { $0.startupStep != nil }.map(\.rawValue)
        #expect(steps == [1, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    }

    @Test func attestationCarriesANonceOfAtMost64BytesAndTypedEvidence() throws {
        for count in [0, 1, 32, 64] {
            let request = AttestRequest(nonce: [UInt8](repeating: 7, count: count))
            #expect(try AttestRequest(request.frame) == request)
        }
        #expect(throws: WireError.self) { try AttestRequest(Frame(.attest, [UInt8](repeating: 0, count: 65))) }
        let quote = GuestEvidence(.tdxQuote, [4, 0, 2, 0])
        #expect(try GuestEvidence(quote.frame) == quote)
        #expect(try GuestEvidence(GuestEvidence(.none, Array("no TEE".utf8)).frame).note == "no TEE")
        #expect(throws: WireError.self) { try GuestEvidence(Frame(.evidence, [9])) }
    }

    @Test func hostnamesAreShortAndPlain() throws {
        #expect(try GuestHostname(GuestHostname("web-1.local").frame).name == "web-1.local")
        for bad in ["", "a b", "x_y", String(repeating: "a", count: 65), "évil"] {
            #expect(throws: WireError.self) { try GuestHostname(GuestHostname(bad).frame) }
        }
    }
}
