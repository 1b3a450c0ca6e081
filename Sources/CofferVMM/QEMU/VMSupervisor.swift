import CofferCore
import CofferSys
import CofferWire
import Foundation

/// What a boot that checked in looked like.
public struct BootReport: Sendable {
    /// The agent's `ready` message (with its own view of the boot time).
    public var ready: Ready
    /// Host wall time from starting QEMU to receiving `ready`.
    public var secondsToReady: Double
    /// Host wall time from starting QEMU to QEMU's exit after the guest powered off.
    public var secondsToExit: Double
    public var consoleLog: String
}

/// Runs QEMU for a VM under a deadline: every boot either checks in and ends in time, or is killed
/// and reported with the tail of its serial console. Nothing is left running when it returns.
public struct VMSupervisor: Sendable {
    /// The QEMU binary; found on PATH when nil.
    public var qemu: String?

    public init(qemu: String? = nil) { self.qemu = qemu }

    /// Boots `vm`, waits for the agent's `ready` frame and for the guest to power off, all within
    /// `deadline` seconds. QEMU's own messages go to `qemuLog`.
    public func bootUntilPowerOff(_ vm: VMConfiguration, qemuLog: String, deadline seconds: Double) throws -> BootReport {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int64(seconds * 1000))
        let (process, socket) = try launch(vm, qemuLog: qemuLog, deadline: seconds)
        // Whatever happens below, QEMU does not outlive this call.
        defer { Self.stop(process, socket) }

        var decoder = FrameDecoder()
        var ready: (Ready, ContinuousClock.Instant)?
        while true {
            if !process.isRunning {
                process.wait()
                guard let (message, readyAt) = ready else {
                    throw VMMError.vmExited(
                        status: process.terminationStatus, consoleTail: ConsoleLog.tail(vm.consoleLog),
                        qemuOutput: Self.text(qemuLog))
                }
                return BootReport(
                    ready: message, secondsToReady: Self.seconds(readyAt - start),
                    secondsToExit: Self.seconds(clock.now - start), consoleLog: vm.consoleLog)
            }
            guard clock.now < end else {
                Self.kill(process)
                if ready != nil { throw VMMError.powerOffTimeout(seconds: seconds, consoleTail: ConsoleLog.tail(vm.consoleLog)) }
                throw VMMError.bootTimeout(seconds: seconds, consoleTail: ConsoleLog.tail(vm.consoleLog))
            }
            guard let bytes = try socket.poll(milliseconds: 50) else {
                // The guest side closed; QEMU is about to exit.
                usleep(20_000)
                continue
            }
            decoder.append(bytes)
            do {
                while ready == nil, let frame = try decoder.next() {
                    let message = try Ready(frame)
                    ready = (message, clock.now)
                }
            } catch {
                throw VMMError.protocolError("\(error)")
            }
        }
    }

    /// Checks the deadline and the configuration, listens on the agent socket and starts QEMU with
    /// its output to `qemuLog`. The caller stops both with `stop` when done.
    /// With `tied`, QEMU is killed by the kernel when the calling thread ends (see `Spawn.tied`).
    func launch(_ vm: VMConfiguration, qemuLog: String, deadline seconds: Double, tied: Bool = false) throws -> (ChildProcess, AgentSocket) {
        guard let executable = qemu ?? Self.qemuPath() else {
            throw VMMError.missingTool(QEMUCommand.executable, package: QEMUCommand.package)
        }
        guard seconds.isFinite, seconds > 0, seconds < 86_400 else {
            throw VMMError.invalidConfiguration("the boot deadline must be between 0 and 86400 seconds, not \(seconds)")
        }
        let arguments = try QEMUCommand.arguments(for: vm)
        let socket = try AgentSocket(path: vm.agentSocket)
        try? FileManager.default.removeItem(atPath: vm.consoleLog)

        let log = open(qemuLog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard log >= 0 else {
            socket.close()
            throw VMMError.file(path: qemuLog, reason: "cannot create QEMU's log")
        }
        // QEMU holds its own copies of the descriptor once started.
        defer { close(log) }
        let process: ChildProcess
        do {
            if tied {
                let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
                process = ChildProcess(adopting: try Spawn.tied(path: executable, argv: [executable] + arguments, env: environment, output: log))
            } else {
                process = try ChildProcess(executable: executable, arguments: arguments, stdout: log, stderr: log)
            }
            RunningVMs.add(process.pid)
        } catch {
            socket.close()
            throw VMMError.file(path: executable, reason: "cannot start QEMU: \(error)")
        }
        return (process, socket)
    }

    /// Kills QEMU if it still runs and removes the agent socket.
    static func stop(_ process: ChildProcess, _ socket: AgentSocket) {
        kill(process)
        RunningVMs.remove(process.pid)
        socket.close()
    }

    /// SIGKILL and reap, unless Coffer already reaped it: whether QEMU still runs is the kernel's
    /// answer (waitpid on its pid), so a deadline always ends with QEMU gone.
    static func kill(_ process: ChildProcess) {
        process.kill(SIGKILL)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func text(_ path: String) -> String {
        (FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension VMSupervisor {
    /// Where `qemu-system-x86_64` is on PATH, or nil when it is not installed.
    public static func qemuPath() -> String? { HostTool.find(QEMUCommand.executable) }
}
