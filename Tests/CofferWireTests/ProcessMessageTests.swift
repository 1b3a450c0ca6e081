import CofferCore
import CofferWire
import Testing

/// The workload messages: `start`, `exit` and `failure` round trip, and hostile payloads are
/// refused with an error rather than trusted or trapped on.
@Suite struct ProcessMessageTests {
    let start = StartProcess(
        argv: ["/bin/sh", "-c", "echo hé; exit 3"], env: ["PATH=/bin", "EMPTY="], cwd: "/srv", uid: 1000, gid: 100)

    @Test func startRoundTripsWithItsDocumentedLayout() throws {
        let frame = start.frame
        #expect(frame.kind == .start)
        #expect(Array(frame.payload.prefix(8)) == [0, 0, 0x03, 0xE8, 0, 0, 0, 100])
        #expect(Array(frame.payload[8..<16]) == [0, 0, 0, 4] + Array("/srv".utf8))
        #expect(try StartProcess(frame) == start)
    }

    @Test func startRefusesHostilePayloads() throws {
        var payload = start.frame.payload
        #expect(throws: WireError.self) { try StartProcess(Frame(.start, payload + [0])) }
        #expect(throws: WireError.self) { try StartProcess(Frame(.start, Array(payload.dropLast()))) }
        // An argv count far beyond the payload is refused before anything is reserved.
        payload = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x2F, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: WireError.self) { try StartProcess(Frame(.start, payload)) }
        #expect(throws: WireError.self) {
            try StartProcess(StartProcess(argv: [], env: [], cwd: "/", uid: 0, gid: 0).frame)
        }
        #expect(throws: WireError.self) {
            try StartProcess(StartProcess(argv: ["/x"], env: [], cwd: "relative", uid: 0, gid: 0).frame)
        }
        #expect(throws: WireError.self) {
            try StartProcess(StartProcess(argv: ["/x\u{0}y"], env: [], cwd: "/", uid: 0, gid: 0).frame)
        }
        #expect(throws: WireError.self) { try StartProcess(Frame(.exit, start.frame.payload)) }
    }

    @Test func exitRoundTripsAndMapsToAShellStatus() throws {
        #expect(ProcessExit.exited(7).frame.payload == [0, 0, 0, 0, 7])
        #expect(try ProcessExit(ProcessExit.exited(7).frame) == .exited(7))
        #expect(try ProcessExit(ProcessExit.signaled(9).frame) == .signaled(9))
        #expect(ProcessExit.signaled(9).shellStatus == 137)
        #expect(ProcessExit.exited(255).shellStatus == 255)
        #expect(throws: WireError.self) { try ProcessExit(Frame(.exit, [0, 0, 0, 1, 0])) }
        #expect(throws: WireError.self) { try ProcessExit(Frame(.exit, [1, 0, 0, 0, 0])) }
        #expect(throws: WireError.self) { try ProcessExit(Frame(.exit, [2, 0, 0, 0, 1])) }
        #expect(throws: WireError.self) { try ProcessExit(Frame(.exit, [0, 0, 0, 0, 1, 0])) }
    }

    @Test func failureRoundTripsAndRefusesUnknownReasons() throws {
        let failure = AgentFailure(.integrity, "executing /x: Input/output error")
        #expect(try AgentFailure(failure.frame) == failure)
        #expect(throws: WireError.self) { try AgentFailure(Frame(.failure, [99] + Array("x".utf8))) }
        #expect(throws: WireError.self) { try AgentFailure(Frame(.failure, [])) }
    }
}
