import CofferCore
import CofferWire
import Foundation

/// How a workload run ended, with the boot's timings.
public struct RunReport: Sendable {
    public var ready: Ready
    public var exit: ProcessExit
    /// Host wall time from starting QEMU to the agent's `ready`.
    public var secondsToReady: Double
    /// Host wall time from starting QEMU to the workload's `exit`.
    public var secondsToExit: Double
}

extension VMSupervisor {
    /// Boots `vm`, sends `start` once the agent checks in, hands every `stdout`/`stderr` chunk to
    /// `output` as it arrives, and returns when the workload has exited.
    ///
    /// `deadline` bounds the boot (QEMU start to `ready`); the workload itself runs as long as it
    /// runs. An agent `failure` frame is thrown as `VMMError.agentFailure`. QEMU is stopped as
    /// soon as `exit` arrives: nothing is left running when this returns.
    public func run(
        _ vm: VMConfiguration, start: StartProcess, qemuLog: String, deadline seconds: Double,
        output: (FrameKind, [UInt8]) -> Void
    ) throws -> RunReport {
        let startFrame = try start.frame.encoded()
        let clock = ContinuousClock()
        let begun = clock.now
        let bootEnd = begun + .milliseconds(Int64(seconds * 1000))
        let (process, socket) = try launch(vm, qemuLog: qemuLog, deadline: seconds)
        defer { Self.stop(process, socket) }

        var decoder = FrameDecoder()
        var readyAt: (Ready, ContinuousClock.Instant)?
        var exitAt: (ProcessExit, ContinuousClock.Instant)?
        while true {
            if let (exit, at) = exitAt, let (ready, readyInstant) = readyAt {
                // All output precedes `exit` on the stream, and the guest keeps nothing worth a
                // clean shutdown (its only writable storage is tmpfs), so QEMU is stopped now
                // (the deferred kill) rather than waiting ~1 s for the guest's own power-off under
                // TCG. Writable volumes will need the agent to flush them before it sends `exit`.
                return RunReport(
                    ready: ready, exit: exit, secondsToReady: Self.seconds(readyInstant - begun),
                    secondsToExit: Self.seconds(at - begun))
            } else if !process.isRunning {
                process.wait()
                // Frames may still be in the socket after QEMU exited.
                while let bytes = try socket.poll(milliseconds: 0), !bytes.isEmpty { decoder.append(bytes) }
                try handle(&decoder, &readyAt, &exitAt, clock: clock, output: output, startFrame: startFrame, socket: socket)
                if exitAt != nil { continue }
                if readyAt != nil {
                    throw VMMError.protocolError(
                        "the guest stopped without reporting the workload's exit. Last console lines:\n\(ConsoleLog.tail(vm.consoleLog))")
                }
                throw VMMError.vmExited(
                    status: process.terminationStatus, consoleTail: ConsoleLog.tail(vm.consoleLog), qemuOutput: Self.text(qemuLog))
            } else if readyAt == nil, clock.now >= bootEnd {
                Self.kill(process)
                throw VMMError.bootTimeout(seconds: seconds, consoleTail: ConsoleLog.tail(vm.consoleLog))
            }
            guard let bytes = try socket.poll(milliseconds: 50) else {
                usleep(5_000)
                continue
            }
            decoder.append(bytes)
            try handle(&decoder, &readyAt, &exitAt, clock: clock, output: output, startFrame: startFrame, socket: socket)
        }
    }

    /// Acts on every complete frame: `ready` (once, first) sends `start`; output goes to `output`;
    /// `exit` ends the run; `failure` throws.
    private func handle(
        _ decoder: inout FrameDecoder, _ readyAt: inout (Ready, ContinuousClock.Instant)?,
        _ exitAt: inout (ProcessExit, ContinuousClock.Instant)?, clock: ContinuousClock,
        output: (FrameKind, [UInt8]) -> Void, startFrame: [UInt8], socket: AgentSocket
    ) throws {
        do {
            while let frame = try decoder.next() {
                /// The guest speaks in a fixed order: `ready`, then output, then one `exit`.
                /// Anything else means a confused guest, and ends the run rather than being guessed at.
                switch frame.kind {
                case .ready where readyAt == nil:
                    readyAt = (try Ready(frame), clock.now)
                    try socket.send(startFrame)
                case .stdout where readyAt != nil && exitAt == nil, .stderr where readyAt != nil && exitAt == nil:
                    output(frame.kind, frame.payload)
                case .exit where readyAt != nil && exitAt == nil:
                    exitAt = (try ProcessExit(frame), clock.now)
                case .failure:
                    throw VMMError.agentFailure(try AgentFailure(frame))
                default:
                    throw VMMError.protocolError("unexpected \(frame.kind) frame from the guest")
                }
            }
        } catch let error as WireError {
            throw VMMError.protocolError("\(error)")
        }
    }
}
