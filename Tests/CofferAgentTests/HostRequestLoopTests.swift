@testable import CofferAgent
import CofferCore
import CofferKBSProtocol
import CofferSys
import CofferWire
import Glibc
import Testing

/// The agent's rules for what the host may ask, played against `HostRequestLoop` without a VM:
/// the channel is a socketpair, processes and evidence come from the fakes below.
@Suite struct HostRequestLoopTests {
    static let workload = StartProcess(argv: ["/bin/sh", "-c", "echo started"], env: ["PATH=/bin"], cwd: "/")

    /// The host's end of the channel and a loop on the other end.
    struct Harness {
        let host: FileDescriptor
        let spawner = RecordingSpawner()
        let evidence = RecordingEvidence()
        var loop: HostRequestLoop
        private var decoder = FrameDecoder()

        init(
            permission: ExecPolicy = .deny, workload: WorkloadBinding? = WorkloadBinding(HostRequestLoopTests.workload),
            initData: MeasuredInitData? = nil
        ) throws {
            var ends: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else { throw SystemError("socketpair", "test channel") }
            host = FileDescriptor(rawValue: ends[0])
            loop = HostRequestLoop(
                port: FileDescriptor(rawValue: ends[1]), permission: permission, workload: workload, initData: initData, console: Console(),
                spawner: spawner, evidence: evidence)
        }

        /// The next frame the agent sent (blocking: only called when one is due).
        mutating func next() throws -> Frame {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                if let frame = try decoder.next() { return frame }
                let count = buffer.withUnsafeMutableBytes { read(host.rawValue, $0.baseAddress, $0.count) }
                guard count > 0 else { throw SystemError("read", "test channel") }
                decoder.append(buffer[0..<count])
            }
        }

        func close() {
            host.close()
            loop.port.close()
        }
    }

    @Test func theFirstStartMustBeProcessOne() throws {
        var harness = try Harness()
        defer { harness.close() }
        var request = Self.workload
        request.id = ProcessID(2)
        let failure = try #require(throws: AgentFailure.self) { try harness.loop.handle(request.frame) }
        #expect(failure.reason == .protocolViolation)
        #expect(harness.spawner.started.isEmpty)
    }

    @Test func theWorkloadMustBeTheMeasuredOne() throws {
        var harness = try Harness()
        defer { harness.close() }
        var request = Self.workload
        request.env.append("LD_PRELOAD=/tmp/evil.so")
        let failure = try #require(throws: AgentFailure.self) { try harness.loop.handle(request.frame) }
        #expect(failure.reason == .denied && failure.id == .main)
        #expect(harness.spawner.started.isEmpty)

        var unbound = try Harness(workload: nil)
        defer { unbound.close() }
        #expect(throws: AgentFailure.self) { try unbound.loop.handle(Self.workload.frame) }
        #expect(unbound.spawner.started.isEmpty)
    }

    @Test func theMeasuredWorkloadStarts() throws {
        var harness = try Harness()
        defer { harness.close() }
        try harness.loop.handle(Self.workload.frame)
        #expect(harness.spawner.started.map(\.argv) == [Self.workload.argv])
        #expect(try ProcessStarted(harness.next()) == ProcessStarted(.main, pid: 4242))
    }

    @Test func laterStartsGoThroughTheExecPolicy() throws {
        var harness = try Harness(permission: .deny)
        defer { harness.close() }
        try harness.loop.handle(Self.workload.frame)
        _ = try harness.next()
        let exec = StartProcess(id: ProcessID(2), argv: ["/bin/cat", "/etc/shadow"], env: [], cwd: "/")
        try harness.loop.handle(exec.frame)
        let refusal = try AgentFailure(harness.next())
        #expect(refusal.reason == .denied && refusal.id == ProcessID(2), "\(refusal.message)")
        #expect(harness.spawner.started.count == 1)

        var open = try Harness(permission: .allow)
        defer { open.close() }
        try open.loop.handle(Self.workload.frame)
        _ = try open.next()
        try open.loop.handle(exec.frame)
        #expect(try ProcessStarted(open.next()).id == ProcessID(2))
        #expect(open.spawner.started.map(\.argv) == [Self.workload.argv, exec.argv])
        // Process 1 again, or an id in use, is a protocol violation.
        #expect(throws: AgentFailure.self) { try open.loop.handle(exec.frame) }
        #expect(throws: AgentFailure.self) { try open.loop.handle(Self.workload.frame) }
    }

    /// The hostile host: it runs the key broker's handshake with its own key and sends the broker's
    /// binding (a SHA-384 digest zero-padded to 64 bytes) as the nonce. The guest must not quote it.
    @Test func attestNeverPutsTheHostsBytesIntoTheReportData() throws {
        var harness = try Harness()
        defer { harness.close() }
        let binding = SHA256Digest.hash(Array("{\"nonce\":\"n\",\"tee-pubkey\":{}}".utf8)) + SHA256Digest.hash([1]).prefix(16)
            + [UInt8](repeating: 0, count: 16)
        try harness.loop.handle(AttestRequest(nonce: binding).frame)
        let answer = try GuestEvidence(harness.next())
        #expect(answer.format == .none)
        let asked = try #require(harness.evidence.asked.first)
        #expect(harness.evidence.asked.count == 1)
        #expect(asked != binding)
        #expect(asked == AttestVMBinding.reportData(nonce: binding))
        #expect(asked.count == 64 && !asked.suffix(16).allSatisfy { $0 == 0 })
        #expect(throws: WireError.self) { try harness.loop.handle(Frame(.attest, [UInt8](repeating: 0, count: 65))) }
    }

    @Test func unknownFramesAndFramesForTheHostAreRefused() throws {
        // The relay's answers and sample evidence are refused when the agent is not awaiting one
        // (ProvisioningTests covers them while it is), and a guest-to-host request from the host too.
        let relayed = [
            BrokerResponse(id: 1, status: 200, body: Array("{}".utf8)).frame, SampleEvidenceResponse(evidence: [1]).frame,
            BrokerRequest(id: 1, method: .get, path: "/kbs/v0/auth").frame,
        ]
        for frame in [Frame(FrameKind(rawValue: 0x7F)), Ready(bootNanoseconds: 1, modulesLoaded: 0).frame, ProcessStarted(.main, pid: 1).frame] + relayed {
            var harness = try Harness()
            defer { harness.close() }
            let failure = try #require(throws: AgentFailure.self) { try harness.loop.handle(frame) }
            #expect(failure.reason == .protocolViolation)
        }
    }

    @Test func theHostnameIsRefusedOnceTheWorkloadStarted() throws {
        var harness = try Harness()
        defer { harness.close() }
        try harness.loop.handle(Self.workload.frame)
        let failure = try #require(throws: AgentFailure.self) { try harness.loop.handle(GuestHostname("late").frame) }
        #expect(failure.reason == .protocolViolation && failure.message.contains("hostname"))
    }
    // MARK: Init-data (decision 0022): the host hands it over; only the measured bytes are taken.

    /// A launch with nothing to provision (no broker): the workload starts without one.
    static let document = try! LaunchConfiguration(image: "sha256:" + String(repeating: "2e", count: 32)).initDataDocument().bytes
    static let measured = try! MeasuredInitData(algorithm: "sha384", digest: SHA512Digest.hash384(document))

    @Test func theMeasuredInitDataIsTakenAndTheWorkloadStarts() throws {
        var harness = try Harness(initData: Self.measured)
        defer { harness.close() }
        try harness.loop.handle(InitDataMessage(document: Self.document).frame)
        #expect(harness.loop.launchDocument == Self.document)
        try harness.loop.handle(Self.workload.frame)
        #expect(harness.spawner.started.count == 1)
    }

    /// The host swaps one byte of the document (another broker URL, another secret path): refused,
    /// and nothing starts.
    @Test func initDataThatIsNotTheMeasuredOneIsRefused() throws {
        var harness = try Harness(initData: Self.measured)
        defer { harness.close() }
        var swapped = Self.document
        swapped[swapped.count - 6] = UInt8(ascii: "x")
        let failure = try #require(throws: AgentFailure.self) { try harness.loop.handle(InitDataMessage(document: swapped).frame) }
        #expect(failure.reason == .initData && failure.message.contains("is not the one the launch measured"))
        #expect(harness.loop.launchDocument == nil)
        #expect(throws: AgentFailure.self) { try harness.loop.handle(Self.workload.frame) }
        #expect(harness.spawner.started.isEmpty)
    }

    /// The digest checks, but its coffer.json is not a launch configuration: nothing starts.
    @Test func aMeasuredDocumentWithoutAValidConfigurationStartsNothing() throws {
        let document = Array("version = \"0.1.0\"\nalgorithm = \"sha384\"\n\n[data]\n\"coffer.json\" = '''\n{}'''\n".utf8)
        var harness = try Harness(initData: try MeasuredInitData(algorithm: "sha384", digest: SHA512Digest.hash384(document)))
        defer { harness.close() }
        try harness.loop.handle(InitDataMessage(document: document).frame)
        let failure = try #require(throws: AgentFailure.self) { try harness.loop.handle(Self.workload.frame) }
        #expect(failure.reason == .initData && failure.id == .main && failure.message.contains("coffer.json"), "\(failure.message)")
        #expect(harness.spawner.started.isEmpty)
    }

    @Test func theWorkloadDoesNotStartWithoutTheMeasuredInitData() throws {
        var harness = try Harness(initData: Self.measured)
        defer { harness.close() }
        let failure = try #require(throws: AgentFailure.self) { try harness.loop.handle(Self.workload.frame) }
        #expect(failure.reason == .initData && failure.message.contains("sent none"))
        #expect(harness.spawner.started.isEmpty)
    }

    @Test func initDataIsRefusedWhenNoneWasMeasuredTwiceOrLate() throws {
        var unmeasured = try Harness()
        defer { unmeasured.close() }
        let none = try #require(throws: AgentFailure.self) { try unmeasured.loop.handle(InitDataMessage(document: Self.document).frame) }
        #expect(none.reason == .initData && none.message.contains("measured none"))

        var twice = try Harness(initData: Self.measured)
        defer { twice.close() }
        try twice.loop.handle(InitDataMessage(document: Self.document).frame)
        let second = try #require(throws: AgentFailure.self) { try twice.loop.handle(InitDataMessage(document: Self.document).frame) }
        #expect(second.reason == .protocolViolation)
        try twice.loop.handle(Self.workload.frame)
        let late = try #require(throws: AgentFailure.self) { try twice.loop.handle(InitDataMessage(document: Self.document).frame) }
        #expect(late.reason == .protocolViolation && late.message.contains("after the workload started"))
    }
}

/// Records what it was asked to start and hands back a process with no descriptors.
final class RecordingSpawner: ProcessSpawner, @unchecked Sendable {
    private(set) var started: [StartProcess] = []

    func start(_ request: StartProcess, path: String, user: ResolvedUser) throws -> GuestProcess {
        started.append(request)
        return GuestProcess(id: request.id, pid: 4242, outputs: [], input: nil, terminal: nil)
    }
}

/// Records the report data it was asked to bind and answers that it has no TEE.
final class RecordingEvidence: EvidenceSource, @unchecked Sendable {
    private(set) var asked: [[UInt8]] = []
    var teeKind: GuestEvidence.Format { .none }

    func evidence(reportData: [UInt8]) -> GuestEvidence {
        asked.append(reportData)
        return GuestEvidence(.none, Array("fake: no TEE".utf8))
    }
}
