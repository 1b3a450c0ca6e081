import CofferCore
import CofferSys
import CofferWire
import Foundation

/// The process that owns one running VM (`coffer _monitor DIR`, like containerd's shim): it
/// starts QEMU, brings the workload up once the agent checks in, keeps the workload's output in
/// the VM's log, serves clients (`run`'s attachment, `exec`, `stop`, `kill`) on the control socket,
/// and records every transition in `state.json`. It ends when the VM does, leaving nothing
/// running: QEMU is killed with it by the kernel even when the monitor itself is killed.
/// What a confidential launch needs from the host (decision 0022), supplied by the CLI, which links
/// the HTTP client and the sample signer. Both calls block, bounded by their own deadlines.
public protocol LaunchServices {
    /// Sends the guest's request to the broker and returns its answer (status 0 and the reason
    /// when the broker could not be reached).
    func relay(_ request: BrokerRequest, spec: VMSpec) -> BrokerResponse
    /// Sample evidence over the guest's report data, the launch measurement and the init-data
    /// digest, or empty when there is no launcher key. Development mode only.
    func sampleEvidence(reportData: [UInt8], spec: VMSpec) -> [UInt8]
}

public final class VMMonitor {
    let directory: VMDirectory
    let services: LaunchServices?
    let spec: VMSpec
    /// The VM's workload waits for a client's `attach` (a foreground `run`) before it starts,
    /// so no output is missed; at most `attachWait` after the guest checked in.
    let waitForAttach: Bool
    static let attachWait: Duration = .seconds(10)

    var state: VMState
    var qemu: ChildProcess?
    var agent: AgentSocket?
    var control: Int32 = -1
    var clients: [Int32: MonitorClient] = [:]
    var decoder = FrameDecoder()
    var readyAt: ContinuousClock.Instant?
    var mainStarted = false
    var nextProcess: UInt32 = 2
    /// Exec'd processes: which client started each, under which of its own ids.
    var owners: [ProcessID: (client: Int32, local: ProcessID)] = [:]
    var outputLog: Int32 = -1
    /// The volumes' disks, locked for the VM's life (one running VM per volume).
    var volumeLock: VolumeLock?
    /// The workload's standard input received before it started (encoded `stdin` frames).
    var earlyInput: [[UInt8]] = []
    /// Clients waiting for evidence, in the order their `attest` requests went to the guest.
    var attesters: [Int32] = []
    /// When the VM is killed if the workload has not ended (`stop`'s grace period, a SIGKILL),
    /// with the exit then reported and why.
    var killAt: (ContinuousClock.Instant, exit: ProcessExit, reason: String)?
    /// A termination signal reached the monitor (its stop is under way).
    var stopRequested = false
    /// Grace between SIGTERM and SIGKILL when the monitor itself is told to terminate.
    static let signalGraceSeconds = 10
    let clock = ContinuousClock()

    public init(directory: VMDirectory, waitForAttach: Bool, services: LaunchServices? = nil) throws(VMMError) {
        self.directory = directory
        self.services = services
        self.waitForAttach = waitForAttach
        spec = try directory.readSpec()
        state = try directory.readState()
    }

    /// Runs the VM to its end and records how it ended. Never throws: every failure ends in the
    /// state file (and in a `failure` frame to the clients still connected).
    public func run() {
        let begun = clock.now
        state = VMState(status: .running)
        state.launches = ((try? directory.readState())?.launches ?? 0) + 1
        state.monitorPID = getpid()
        state.startedAt = Date().timeIntervalSince1970
        do {
            try directory.write(state)
            outputLog = open(directory.outputLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard outputLog >= 0 else { throw VMMError.file(path: directory.outputLog, reason: String(cString: strerror(errno))) }
            control = try UnixSocket.listen(at: directory.controlSocket, backlog: 16)
            volumeLock = try VolumeLock(spec.vm.volumeDisks.map(\.path))
            let (process, socket) = try VMSupervisor(qemu: spec.qemu).launch(
                spec.vm, qemuLog: directory.file("qemu.log"), deadline: spec.bootDeadline, tied: true)
            qemu = process
            agent = socket
            state.qemuPID = process.pid
            try directory.write(state)
            let outcome = try serve(bootEnd: begun + .milliseconds(Int64(spec.bootDeadline * 1000)))
            finish(outcome)
        } catch {
            finish(.dead(error: (error as? VMMError)?.description ?? "\(error)", failure: nil))
        }
    }

    /// How the VM ended.
    enum Outcome {
        case exited(ProcessExit, note: String?)
        case dead(error: String, failure: AgentFailure?)
    }

    /// The event loop: until the workload's exit, a guest failure, QEMU's end or a deadline.
    func serve(bootEnd: ContinuousClock.Instant) throws -> Outcome {
        guard let qemu, let agent else { throw VMMError.protocolError("QEMU is not running") }
        // SIGTERM, SIGINT or SIGHUP to the monitor (a host shutting down, a supervisor) stop the
        // VM as `coffer stop` does, with Docker's default grace period.
        let signals = try? SignalRelay([SIGTERM, SIGINT, SIGHUP])
        defer { signals?.close() }
        while true {
            if !qemu.isRunning {
                // Frames may still be in the socket after QEMU exited.
                while let bytes = try agent.poll(milliseconds: 0), !bytes.isEmpty { decoder.append(bytes) }
                if let outcome = try handleAgentFrames() { return outcome }
                let tail = ConsoleLog.tail(spec.vm.consoleLog)
                if readyAt == nil {
                    return .dead(error: VMMError.vmExited(status: qemu.terminationStatus, consoleTail: tail, qemuOutput: VMSupervisor.text(directory.file("qemu.log"))).description, failure: nil)
                }
                return .dead(error: "QEMU ended (status \(qemu.terminationStatus)) without the workload's exit. Last console lines:\n\(tail)", failure: nil)
            }
            if readyAt == nil, clock.now >= bootEnd {
                return .dead(error: VMMError.bootTimeout(seconds: spec.bootDeadline, consoleTail: ConsoleLog.tail(spec.vm.consoleLog)).description, failure: nil)
            }
            if let (deadline, exit, reason) = killAt, clock.now >= deadline {
                return .exited(exit, note: reason)
            }
            if let readyAt, !mainStarted,
                !waitForAttach || clients.values.contains(where: \.attached) || clock.now - readyAt > Self.attachWait
            {
                try startWorkload(agent)
            }
            var watched = [pollfd(fd: agent.descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: control, events: Int16(POLLIN), revents: 0)]
            let clientDescriptors = Array(clients.keys)
            watched += clientDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            watched.append(pollfd(fd: signals?.fd ?? -1, events: Int16(POLLIN), revents: 0))
            _ = poll(&watched, nfds_t(watched.count), 50)
            if let signals, watched[watched.count - 1].revents != 0, !signals.take().isEmpty, !stopRequested {
                stopRequested = true
                try stop(graceSeconds: Self.signalGraceSeconds, agent: agent)
            }
            if watched[0].revents != 0 {
                guard let bytes = try agent.poll(milliseconds: 0) else {
                    usleep(20_000)
                    continue
                }
                decoder.append(bytes)
                if let outcome = try handleAgentFrames() { return outcome }
            }
            if watched[1].revents != 0 { acceptClients() }
            for (position, fd) in clientDescriptors.enumerated() where watched[position + 2].revents != 0 {
                try serveClient(fd, agent: agent)
            }
        }
    }

    private func startWorkload(_ agent: AgentSocket) throws {
        mainStarted = true
        try agent.send(GuestHostname(spec.hostname).frame.encoded())
        if let initData = spec.initData { try agent.send(InitDataMessage(document: Array(initData.utf8)).frame.encoded()) }
        let attached = clients.values.first { $0.attached }
        try agent.send(spec.workload.start(rows: attached?.rows ?? 24, cols: attached?.cols ?? 80).frame.encoded())
        for frame in earlyInput { try agent.send(frame) }
        earlyInput = []
    }

    /// Acts on every complete frame from the guest; returns the outcome once the VM is over.
    private func handleAgentFrames() throws -> Outcome? {
        do {
            while let frame = try decoder.next() {
                /// The guest speaks in a fixed order: `ready` once, first; then process messages
                /// for processes that were started. Anything else ends the VM as a protocol error.
                switch frame.kind {
                case .ready where readyAt == nil:
                    _ = try Ready(frame)
                    readyAt = clock.now
                case .stdout where mainStarted, .stderr where mainStarted:
                    let output = try ProcessOutput(frame)
                    if output.id == .main {
                        _ = try? UnixSocket.send(try frame.encoded(), to: outputLog)
                        broadcast(frame)
                    } else {
                        forward(frame, about: output.id) { ProcessOutput($0, output.stream, output.bytes).frame }
                    }
                case .started where mainStarted:
                    let started = try ProcessStarted(frame)
                    if started.id == .main {
                        state.workloadStartedAt = Date().timeIntervalSince1970
                        state.workloadPID = started.pid
                        try directory.write(state)
                    } else {
                        forward(frame, about: started.id) { ProcessStarted($0, pid: started.pid).frame }
                    }
                case .exit where mainStarted:
                    let ended = try ProcessEnded(frame)
                    if ended.id == .main { return .exited(ended.exit, note: nil) }
                    forward(frame, about: ended.id) { ProcessEnded($0, ended.exit).frame }
                    owners[ended.id] = nil
                case .brokerRequest where mainStarted && spec.initData != nil:
                    // The guest provisions itself before its workload starts; the relay only carries.
                    let request = try BrokerRequest(frame)
                    let response = services?.relay(request, spec: spec) ?? BrokerResponse(id: request.id, status: 0, body: Array("this launcher cannot relay to a broker".utf8))
                    try agent?.send(response.frame.encoded())
                case .sampleEvidenceRequest where mainStarted && spec.initData != nil:
                    let request = try SampleEvidenceRequest(frame)
                    try agent?.send(SampleEvidenceResponse(evidence: services?.sampleEvidence(reportData: request.reportData, spec: spec) ?? []).frame.encoded())
                case .evidence where readyAt != nil && !attesters.isEmpty:
                    _ = try GuestEvidence(frame)
                    let fd = attesters.removeFirst()
                    if fd >= 0, clients[fd] != nil, (try? UnixSocket.send(try frame.encoded(), to: fd)) == nil { disconnect(fd) }
                case .failure:
                    let failure = try AgentFailure(frame)
                    if failure.id == .agent || failure.id == .main {
                        return .dead(error: VMMError.agentFailure(failure).description, failure: failure)
                    }
                    forward(frame, about: failure.id) { AgentFailure(failure.reason, failure.message, id: $0).frame }
                    owners[failure.id] = nil
                default:
                    throw VMMError.protocolError("unexpected \(frame.kind) frame from the guest")
                }
            }
        } catch let error as WireError {
            throw VMMError.protocolError("\(error)")
        }
        return nil
    }

    /// Records the end, tells the clients, stops QEMU, and removes the sockets (and the whole
    /// directory for `--rm`).
    func finish(_ outcome: Outcome) {
        qemu.map { VMSupervisor.kill($0) }
        agent?.close()
        volumeLock?.unlock()
        state.finishedAt = Date().timeIntervalSince1970
        let last: Frame
        switch outcome {
        case .exited(let exit, let note):
            state.status = .exited
            state.exitCode = exit.shellStatus
            state.error = note
            last = ProcessEnded(.main, exit).frame
        case .dead(let error, let failure):
            state.status = .dead
            state.error = error
            last = (failure ?? AgentFailure(.vm, error, id: .main)).frame
        }
        // The state is on disk before any client hears of the end: a `ps` right after sees it.
        if !spec.autoRemove { try? directory.write(state) }
        broadcast(last)
        for fd in clients.keys { close(fd) }
        clients = [:]
        if control >= 0 {
            close(control)
            unlink(directory.controlSocket)
        }
        if outputLog >= 0 { close(outputLog) }
        if spec.autoRemove { try? FileManager.default.removeItem(atPath: directory.path) }
    }
}
