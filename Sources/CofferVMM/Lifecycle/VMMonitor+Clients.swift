import CofferCore
import CofferWire
import Foundation

/// A connection on a VM's control socket: a `run` or `start -a` attached to the workload, an
/// `exec`, a `stop` or a `kill`.
struct MonitorClient {
    var decoder = FrameDecoder()
    /// Receives the workload's output and exit.
    var attached = false
    /// May write the workload's standard input.
    var stdin = false
    var rows: UInt16 = 24
    var cols: UInt16 = 80
    /// The client's own process ids (it numbers its execs itself) and the VM's for them.
    var processes: [ProcessID: ProcessID] = [:]
}

extension VMMonitor {
    func acceptClients() {
        while true {
            let fd = accept(control, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            // A client that stops reading is dropped after 2 s rather than stalling the VM.
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            clients[fd] = MonitorClient()
        }
    }

    /// Reads from one client and acts on its frames. A client that breaks the protocol is told
    /// why and disconnected; the VM goes on.
    func serveClient(_ fd: Int32, agent: AgentSocket) throws {
        guard var client = clients[fd] else { return }
        guard let bytes = try? UnixSocket.receive(from: fd) else {
            disconnect(fd)
            return
        }
        client.decoder.append(bytes)
        do {
            while let frame = try client.decoder.next() {
                try handle(frame, from: &client, fd: fd, agent: agent)
            }
            clients[fd] = client
        } catch let refusal as AgentFailure {
            _ = try? UnixSocket.send(refusal.frame.encoded(), to: fd)
            disconnect(fd)
        } catch let error as WireError {
            _ = try? UnixSocket.send(AgentFailure(.protocolViolation, "\(error)").frame.encoded(), to: fd)
            disconnect(fd)
        }
    }

    private func handle(_ frame: Frame, from client: inout MonitorClient, fd: Int32, agent: AgentSocket) throws {
        switch frame.kind {
        case .attach:
            let request = try AttachRequest(frame)
            client.attached = true
            client.stdin = request.stdin && spec.workload.stdin
        case .resize:
            let size = try TerminalSize(frame)
            if size.id == .main {
                client.rows = size.rows
                client.cols = size.cols
                if mainStarted { try agent.send(size.frame.encoded()) }
            } else if let global = client.processes[size.id] {
                try agent.send(TerminalSize(global, rows: size.rows, cols: size.cols).frame.encoded())
            }
        case .start:
            let request = try StartProcess(frame)
            guard mainStarted else { throw AgentFailure(.vm, "the VM's workload has not started yet", id: request.id) }
            guard request.id != .main, client.processes[request.id] == nil else {
                throw AgentFailure(.protocolViolation, "exec with process id \(request.id.rawValue), which is in use", id: request.id)
            }
            let global = ProcessID(nextProcess)
            nextProcess &+= 1
            client.processes[request.id] = global
            owners[global] = (fd, request.id)
            var forwarded = request
            forwarded.id = global
            try agent.send(forwarded.frame.encoded())
        case .stdin:
            let data = try StdinData(frame)
            if data.id == .main {
                guard client.stdin else { return }
                guard mainStarted else {
                    // Input typed or piped while the guest boots is kept for the workload.
                    guard earlyInput.reduce(0, { $0 + $1.count }) < 8 << 20 else {
                        throw AgentFailure(.vm, "more than 8 MiB of input before the workload started", id: .main)
                    }
                    earlyInput.append(try frame.encoded())
                    return
                }
                try agent.send(frame.encoded())
            } else if let global = client.processes[data.id] {
                try agent.send(StdinData(global, data.bytes).frame.encoded())
            }
        case .signal:
            let request = try SignalProcess(frame)
            if request.id == .main {
                // A workload signalled before it started never starts: the VM ends as if it had
                // been killed by that signal (an interrupted `coffer run` leaves nothing behind).
                guard mainStarted else {
                    killAt = (clock.now, .signaled(request.signal), "signal \(request.signal) before the workload started; the VM was stopped")
                    return
                }
                try agent.send(frame.encoded())
                /// SIGKILL must end the VM even when the guest no longer answers.
                if request.signal == UInt8(SIGKILL) {
                    killAt = killAt ?? (clock.now + .seconds(3), .signaled(UInt8(SIGKILL)), "killed: the workload did not end within 3 s of SIGKILL; the VM was killed")
                }
            } else if let global = client.processes[request.id] {
                try agent.send(SignalProcess(global, signal: request.signal).frame.encoded())
            }
        case .attest:
            _ = try AttestRequest(frame)
            guard readyAt != nil else { throw AgentFailure(.vm, "the guest has not booted yet") }
            attesters.append(fd)
            try agent.send(frame.encoded())
        case .stop:
            let request = try StopRequest(frame)
            try stop(graceSeconds: Int(request.seconds), agent: agent)
        default:
            throw AgentFailure(.protocolViolation, "unexpected \(frame.kind) frame from a client")
        }
    }

    /// `stop`: SIGTERM to the workload, SIGKILL (the VM ends) after `graceSeconds`.
    func stop(graceSeconds: Int, agent: AgentSocket) throws {
        guard mainStarted else {
            killAt = (clock.now, .signaled(UInt8(SIGKILL)), "stopped before the workload started")
            return
        }
        try agent.send(SignalProcess(.main, signal: UInt8(SIGTERM)).frame.encoded())
        let deadline = clock.now + .seconds(Int64(graceSeconds))
        if killAt.map({ deadline < $0.0 }) ?? true {
            killAt = (deadline, .signaled(UInt8(SIGKILL)), "stopped: the workload did not end within \(graceSeconds) s of SIGTERM; the VM was killed")
        }
    }

    /// Drops a client. The processes it exec'd have no one to report to: they are killed.
    func disconnect(_ fd: Int32) {
        guard let client = clients.removeValue(forKey: fd) else { return }
        close(fd)
        // Its pending evidence must not go to a later client that gets the same descriptor.
        attesters = attesters.map { $0 == fd ? -1 : $0 }
        for global in client.processes.values where owners[global] != nil {
            owners[global] = nil
            _ = try? agent?.send(SignalProcess(global, signal: UInt8(SIGKILL)).frame.encoded())
        }
    }

    /// Sends `frame` to every attached client.
    func broadcast(_ frame: Frame) {
        guard let bytes = try? frame.encoded() else { return }
        for (fd, client) in clients where client.attached {
            do { try UnixSocket.send(bytes, to: fd) } catch { disconnect(fd) }
        }
    }

    /// Sends a message about exec'd process `global` to the client that started it, renumbered
    /// with the client's own id by `renumber`.
    func forward(_ frame: Frame, about global: ProcessID, renumber: (ProcessID) -> Frame) {
        guard let (fd, local) = owners[global], let bytes = try? renumber(local).encoded() else { return }
        do { try UnixSocket.send(bytes, to: fd) } catch { disconnect(fd) }
    }
}
