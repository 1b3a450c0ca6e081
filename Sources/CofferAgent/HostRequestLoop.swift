import CofferCore
import CofferSys
import CofferWire
import Glibc

/// The agent's service loop once the guest is up: starts the workload and the processes the host
/// execs (as far as the measured exec policy allows), relays their stdio, delivers signals and
/// window sizes, reaps every child, and reports each exit after its output. It ends when the
/// workload has ended, returning how.
///
/// Its seams: the channel is a file descriptor (the virtio-serial port in the guest, one end of a
/// socketpair in tests), and what it starts processes with and asks for evidence are protocols
/// (`ProcessSpawner`, `EvidenceSource`), faked in Tests/CofferAgentTests.
struct HostRequestLoop {
    let port: FileDescriptor
    let permission: ExecPolicy
    /// The workload the measured command line binds (nil: none, and no workload is started).
    let workload: WorkloadBinding?
    /// The init-data digest the measured command line names (nil: the launch has none).
    let initData: MeasuredInitData?
    /// The broker the image pins (`coffer.kbs=`): the init-data's broker must have this identity.
    let brokerPin: BrokerPin?
    /// The init-data document once the host handed it over and it hashed to `initData`.
    private(set) var launchDocument: [UInt8]?
    let console: Console
    let spawner: any ProcessSpawner
    let evidence: any EvidenceSource
    /// Where provisioning puts the secrets and how it opens the volumes (decision 0022).
    let secrets: any SecretStore
    let volumes: any VolumeAttacher
    private(set) var processes: [ProcessID: GuestProcess] = [:]
    private var decoder = FrameDecoder()
    private(set) var mainStarted = false
    /// The environment of the workload the measurement bound: the base an exec's must keep.
    private var workloadEnv: [String] = []
    private var buffer = [UInt8](repeating: 0, count: 32768)

    init(
        port: FileDescriptor, permission: ExecPolicy, workload: WorkloadBinding?, initData: MeasuredInitData? = nil, brokerPin: BrokerPin? = nil,
        console: Console,
        spawner: any ProcessSpawner = GuestSpawner(), evidence: any EvidenceSource = TSMEvidenceSource(),
        secrets: any SecretStore = SecretsDirectory.workloadRoot,
        volumes: any VolumeAttacher = GuestVolumeAttacher()
    ) {
        self.port = port
        self.permission = permission
        self.workload = workload
        self.initData = initData
        self.brokerPin = brokerPin
        self.console = console
        self.spawner = spawner
        self.evidence = evidence
        self.secrets = secrets
        self.volumes = volumes
    }

    /// Serves the host until the workload ends; returns its exit (its output already sent).
    /// A failure to start the workload is thrown; an exec that fails is reported and served on.
    mutating func serve() throws -> ProcessExit {
        // Blocks SIGCHLD for the signalfd: only here, so tests that never serve keep their mask.
        let children = try ChildSignal()
        while true {
            if let exit = try finishEndedProcesses() { return exit }
            var watched = [pollfd(fd: port.rawValue, events: Int16(POLLIN), revents: 0), pollfd(fd: children.fd, events: Int16(POLLIN), revents: 0)]
            var owners: [(ProcessID, Int)] = []
            for (id, process) in processes {
                for (index, output) in process.outputs.enumerated() {
                    watched.append(pollfd(fd: output.fd, events: Int16(POLLIN), revents: 0))
                    owners.append((id, index))
                }
                if let input = process.input, !process.pendingInput.isEmpty {
                    watched.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0))
                    owners.append((id, -1))
                }
            }
            // A process that has ended is drained without waiting; otherwise sleep until something happens.
            let ending = processes.values.contains { $0.exit != nil }
            let count = poll(&watched, nfds_t(watched.count), ending ? 0 : -1)
            if count < 0 && errno != EINTR { throw SystemError("poll", "the agent's descriptors") }
            if watched[0].revents != 0 { try receive() }
            if watched[1].revents != 0 { reapChildren(children) }
            var readable: Set<ProcessID> = []
            for (position, (id, index)) in owners.enumerated() where watched[position + 2].revents != 0 {
                if index < 0 {
                    processes[id]?.flushInput()
                } else if try relay(id) {
                    readable.insert(id)
                }
            }
            // A round without bytes after the exit was seen means the output is drained.
            for (id, process) in processes where process.exit != nil {
                if process.roundsAfterExit > 0 && !readable.contains(id) { processes[id]?.drained = true }
                processes[id]?.roundsAfterExit += 1
            }
        }
    }

    /// Reads every output descriptor of `id` once; true when any had bytes.
    private mutating func relay(_ id: ProcessID) throws -> Bool {
        guard var process = processes[id] else { return false }
        var any = false
        var index = 0
        while index < process.outputs.count {
            let output = process.outputs[index]
            // Sound: reads at most buffer.count bytes into memory `buffer` owns.
            let count = buffer.withUnsafeMutableBytes { read(output.fd, $0.baseAddress, $0.count) }
            if count > 0 {
                try port.writeAll(ProcessOutput(id, output.stream, Array(buffer[0..<count])).frame.encoded())
                any = true
                index += 1
            } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                index += 1
            } else {
                // End of file, or EIO from a terminal whose other end all closed.
                if output.fd != process.terminal && output.fd != process.input { close(output.fd) }
                process.outputs.remove(at: index)
            }
        }
        processes[id] = process
        return any
    }

    /// Sends `exit` for each ended process whose output is drained: all its outputs closed, a
    /// round without bytes, or 64 rounds (a descendant that keeps the pipe open and keeps writing
    /// is not waited for). Returns the workload's exit once it is reported.
    private mutating func finishEndedProcesses() throws -> ProcessExit? {
        for (id, process) in processes {
            guard let exit = process.exit, process.outputs.isEmpty || process.drained || process.roundsAfterExit > 64 else { continue }
            var finished = process
            finished.closeAll()
            processes[id] = nil
            if id == .main { return exit }
            try port.writeAll(ProcessEnded(id, exit).frame.encoded())
            console.log("process \(id.rawValue) \(exit)")
        }
        return nil
    }

    /// PID 1 reaps every orphan; only the processes it started are reported.
    private mutating func reapChildren(_ children: ChildSignal) {
        children.drain()
        while let (pid, status) = Spawn.reap() {
            guard let id = processes.first(where: { $0.value.pid == pid })?.key else { continue }
            let (signaled, value) = Spawn.decode(status)
            processes[id]?.exit = signaled ? .signaled(UInt8(clamping: value)) : .exited(UInt8(truncatingIfNeeded: value))
            processes[id]?.closeInput()
        }
    }

    /// Reads the channel and acts on every complete frame.
    private mutating func receive() throws {
        let fd = port.rawValue
        // Sound: reads at most buffer.count bytes into memory `buffer` owns.
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
        guard count > 0 else { throw AgentFailure(.protocolViolation, "the host closed the agent channel") }
        decoder.append(buffer[0..<count])
        while let frame = try decoder.next() { try handle(frame) }
    }

    /// Acts on one frame from the host; a frame the host may not send ends the VM (thrown).
    mutating func handle(_ frame: Frame) throws {
        switch frame.kind {
        case .start: try start(try StartProcess(frame))
        case .stdin:
            let data = try StdinData(frame)
            guard var process = processes[data.id], process.input != nil else { return }
            if data.bytes.isEmpty {
                process.closeInputWhenWritten = true
            } else if process.pendingInput.count + data.bytes.count > GuestProcess.pendingInputLimit {
                console.log("process \(data.id.rawValue) does not read its input; more than \(GuestProcess.pendingInputLimit) bytes pending, its input is closed")
                process.closeInput()
            } else {
                process.pendingInput += data.bytes
            }
            process.flushInput()
            processes[data.id] = process
        case .signal:
            let request = try SignalProcess(frame)
            // A process that already ended keeps its pid until reported: never signal a reaped pid.
            if let process = processes[request.id], process.exit == nil { kill(process.pid, Int32(request.signal)) }
        case .resize:
            let size = try TerminalSize(frame)
            if let terminal = processes[size.id]?.terminal { PseudoTerminal.resize(terminal, rows: size.rows, cols: size.cols) }
        case .attest:
            let request = try AttestRequest(frame)
            /// Never the host's bytes: the report data is derived from its nonce, so the guest
            /// cannot be made to quote a key broker's binding (see `AttestVMBinding`).
            try port.writeAll(evidence.evidence(reportData: AttestVMBinding.reportData(nonce: request.nonce)).frame.encoded())
        case .initData:
            try accept(try InitDataMessage(frame))
        case .hostname:
            /// The host name is cosmetic, but is only set before the workload runs.
            guard !mainStarted else { throw AgentFailure(.protocolViolation, "hostname after the workload started") }
            try setHostname(try GuestHostname(frame))
        default:
            /// The host may only ask for what is listed above; anything else is refused.
            throw AgentFailure(.protocolViolation, "unexpected \(frame.kind) frame from the host")
        }
    }

    /// The launch's configuration, taken only as the bytes the measured command line names.
    ///
    /// Security: the host chooses what it sends. A document that does not hash to the measured
    /// `coffer.initdata=` digest, a second one, one after the workload started, or one for a launch
    /// that measured none could point the guest at another broker, other secrets or other volumes:
    /// each ends the launch.
    private mutating func accept(_ message: InitDataMessage) throws {
        guard let initData else {
            throw AgentFailure(.initData, "the host sent init-data, but the launch measured none (no coffer.initdata=)", id: .main)
        }
        guard !mainStarted, launchDocument == nil else {
            throw AgentFailure(.protocolViolation, "init-data \(mainStarted ? "after the workload started" : "a second time")")
        }
        let digest: [UInt8]
        switch initData.algorithm {
        case "sha256": digest = SHA256Digest.hash(message.document)
        case "sha384": digest = SHA512Digest.hash384(message.document)
        default: digest = SHA512Digest.hash(message.document)
        }
        guard digest == initData.digest else {
            throw AgentFailure(
                .initData, "the init-data the host handed over (\(initData.algorithm):\(Hex.encode(digest))) is not the one the launch measured (coffer.initdata=\(initData.algorithm):\(Hex.encode(initData.digest)))",
                id: .main)
        }
        launchDocument = message.document
    }

    /// The first `start` is the workload; later ones are exec requests under the exec policy.
    private mutating func start(_ request: StartProcess) throws {
        if !mainStarted {
            guard request.id == .main else { throw AgentFailure(.protocolViolation, "the first start must be the workload (id 1)") }
            mainStarted = true
            if initData != nil, launchDocument == nil {
                throw AgentFailure(.initData, "the launch measured init-data (coffer.initdata=), but the host sent none before the workload", id: .main)
            }
            /// The host chooses the request; only the workload the launch measured is started.
            guard let workload else {
                throw AgentFailure(.denied, "the measured kernel command line binds no workload (coffer.workload=): nothing is started", id: .main)
            }
            guard WorkloadBinding(request) == workload else {
                throw AgentFailure(
                    .denied, "the workload requested (\(request.argv.joined(separator: " "))) is not the one the launch measured (coffer.workload=)",
                    id: .main)
            }
            workloadEnv = request.env
            var deferred: [Frame] = []
            do {
                deferred = try provision(for: request)
                // A host name sent while provisioning arrived before the workload: it still applies.
                for frame in deferred where frame.kind == .hostname { try setHostname(try GuestHostname(frame)) }
                processes[.main] = try launch(request, checkingPolicy: false)
            } catch var failure as AgentFailure {
                failure.id = .main
                throw failure
            }
            // What the host sent while the agent awaited the broker, in order, now that the workload runs.
            for frame in deferred where frame.kind != .hostname { try handle(frame) }
            return
        }
        guard request.id != .main, processes[request.id] == nil else {
            throw AgentFailure(.protocolViolation, "start for process \(request.id.rawValue), which is in use")
        }
        do {
            processes[request.id] = try launch(request, checkingPolicy: true)
        } catch var failure as AgentFailure {
            failure.id = request.id
            console.log("exec \(request.argv[0]) refused: \(failure.message)")
            try port.writeAll(failure.frame.encoded())
        }
    }

    private func setHostname(_ name: GuestHostname) throws {
        _ = name.name.withCString { sethostname($0, name.name.utf8.count) }
    }

    /// Provisions the launch its measured init-data describes (nothing without one, or without
    /// secrets and volumes), reading the channel itself meanwhile; returns the frames the host
    /// sent for later. Throws, and nothing starts, if any step fails.
    private mutating func provision(for request: StartProcess) throws(AgentFailure) -> [Frame] {
        guard let launchDocument, let provisioning = try Provisioning(document: launchDocument), provisioning.configuration.needsBroker else {
            return []
        }
        let user = try Self.users().resolve(request.user)
        var relay = HostRelay(port: port, decoder: decoder)
        try provisioning.run(
            channel: &relay, pin: brokerPin, evidence: evidence, secrets: secrets, volumes: volumes, owner: (user.uid, user.gid), console: console)
        decoder = relay.decoder
        return relay.deferred
    }

    /// The image's accounts, as `launch` resolves the user a process runs as.
    private static func users() -> UserDatabase {
        UserDatabase(
            passwd: String(decoding: (try? readFile("/etc/passwd")) ?? [], as: UTF8.self),
            group: String(decoding: (try? readFile("/etc/group")) ?? [], as: UTF8.self))
    }

    private func launch(_ request: StartProcess, checkingPolicy: Bool) throws(AgentFailure) -> GuestProcess {
        let path = try GuestProcess.resolve(request.argv[0], env: request.env)
        /// The host chooses what to exec, so only what the measured policy allows is started.
        if checkingPolicy, case .refused(let reason) = permission.check(request, program: path, workloadEnv: workloadEnv) {
            throw AgentFailure(.denied, "the image's exec policy does not allow \(request.argv.joined(separator: " ")): \(reason)")
        }
        let user = try Self.users().resolve(request.user)
        let process: GuestProcess
        do {
            process = try spawner.start(request, path: path, user: user)
        } catch let failure as Spawn.Failure {
            /// EIO from execve means the kernel could not read the program: under dm-verity that is
            /// a block that does not hash to the measured root hash.
            if failure.errno == EIO {
                throw AgentFailure(.integrity, "\(failure): the root file system failed dm-verity verification (the image on disk does not match its measured root hash)")
            }
            throw AgentFailure(.start, "\(failure)")
        } catch {
            throw AgentFailure(.start, "\(error)")
        }
        do {
            try port.writeAll(ProcessStarted(request.id, pid: UInt32(process.pid)).frame.encoded())
        } catch {
            throw AgentFailure(.protocolViolation, "\(error)")
        }
        return process
    }
}
