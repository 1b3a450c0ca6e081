import CofferCore
import CofferVMM
import CofferWire
import Foundation

/// Starts a VM's monitor (`coffer _monitor DIR`) in a session of its own, so the VM outlives
/// neither more nor less than it should: a terminal's Ctrl-C reaches `coffer run` (which forwards
/// it to the workload), not the monitor.
enum MonitorLauncher {
    /// Spawns the monitor; with `attach` the workload waits for a client to attach first.
    static func spawn(_ directory: VMDirectory, attach: Bool) throws -> ChildProcess {
        let log = open(directory.monitorLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw CofferError(.system, "cannot create \(directory.monitorLog): \(String(cString: strerror(errno)))") }
        defer { close(log) }
        return try ChildProcess(
            executable: CommandLine.executablePath, arguments: ["_monitor"] + (attach ? ["--attach"] : []) + [directory.path],
            stdout: log, stderr: log, newSession: true)
    }

    /// Connects to the monitor's control socket once it listens. Fails with the monitor's own
    /// words when it ends first.
    static func connect(_ directory: VMDirectory, monitor: ChildProcess) throws -> ControlClient {
        let clock = ContinuousClock(), end = clock.now + .seconds(30)
        while true {
            if let client = try? ControlClient(directory: directory) { return client }
            if !monitor.isRunning || clock.now > end {
                let state = try? directory.readState()
                throw CofferError(.system, state?.error ?? "the VM's monitor did not start: \(logTail(directory))")
            }
            usleep(5_000)
        }
    }

    /// Attaches to the workload of the VM whose monitor was just spawned with `attach: true`
    /// (`run`, `start -a`) and returns its status. When the workload ends, or the VM fails (a
    /// failure frame: the monitor is recording the end and stopping QEMU), waits for the monitor
    /// to be gone, so that nothing of the VM is left running when the command returns.
    static func attachToWorkload(_ directory: VMDirectory, monitor: ChildProcess, stdin: Bool, tty: Bool) throws -> Int32 {
        let client = try connect(directory, monitor: monitor)
        try client.send(AttachRequest(stdin: stdin))
        do {
            let status = try Attachment(client: client, id: .main, stdin: stdin, tty: tty).run()
            monitor.wait()
            return status
        } catch Attachment.End.failure(let failure) {
            monitor.wait()
            throw VMMError.agentFailure(failure)
        }
    }

    /// Waits until the workload has started (or the VM has ended): what `run -d` and `start`
    /// return after, so that what follows (`exec`, `stop`) finds it running.
    static func awaitWorkload(_ directory: VMDirectory, monitor: ChildProcess?) throws {
        while true {
            let state = try directory.readState()
            // The state of an earlier launch (`start` of a stopped VM) is not this one's.
            if let monitor, state.monitorPID != monitor.pid {
                guard monitor.isRunning else { throw CofferError(.system, "the VM's monitor ended: \(logTail(directory))") }
                usleep(20_000)
                continue
            }
            if state.workloadStartedAt != nil && state.status == .running { return }
            if state.status == .dead || state.status == .exited {
                throw CofferError(.system, state.error ?? "the VM ended before its workload started (\(state.status.rawValue))")
            }
            if let monitor, !monitor.isRunning, state.status != .exited {
                throw CofferError(.system, "the VM's monitor ended: \(logTail(directory))")
            }
            usleep(20_000)
        }
    }

    static func logTail(_ directory: VMDirectory) -> String {
        let text = FileManager.default.contents(atPath: directory.monitorLog).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: "\n")
    }
}
