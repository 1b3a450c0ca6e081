import CCofferSys
import Glibc

/// A pseudo-terminal for a process the host asked to run with a tty.
public struct PseudoTerminal: Sendable {
    /// The agent's end: non-blocking, close-on-exec.
    public let master: Int32
    /// The process's end, handed to it as standard input, output and error.
    public let slave: Int32

    public static func open(rows: UInt16, cols: UInt16) throws(SystemError) -> PseudoTerminal {
        var master: Int32 = -1, slave: Int32 = -1
        guard coffer_open_pty(&master, &slave, rows, cols) == 0 else { throw SystemError("open a pseudo-terminal", "/dev/ptmx") }
        return PseudoTerminal(master: master, slave: slave)
    }

    /// Sets the terminal's size (the process gets SIGWINCH).
    public static func resize(_ master: Int32, rows: UInt16, cols: UInt16) {
        _ = coffer_set_window_size(master, rows, cols)
    }
}

/// A descriptor that becomes readable when a child process changes state (signalfd for SIGCHLD,
/// which is blocked in the caller): the agent's loop polls it instead of waking up on a timer.
public struct ChildSignal: Sendable {
    public let fd: Int32

    public init() throws(SystemError) {
        fd = coffer_child_signal_fd()
        guard fd >= 0 else { throw SystemError("signalfd", "SIGCHLD") }
    }

    public func drain() { coffer_drain_signal_fd(fd) }
}

/// Signals turned into bytes on a pipe that a poll loop watches (`coffer_signal_relay_open`):
/// reliable whichever thread the kernel picks, with no signal mask to arrange. One per process.
public final class SignalRelay {
    /// Readable when a signal arrived.
    public let fd: Int32
    private let signals: [Int32]

    public init(_ signals: [Int32]) throws(SystemError) {
        self.signals = signals
        fd = signals.withUnsafeBufferPointer { coffer_signal_relay_open($0.baseAddress, Int32($0.count)) }
        guard fd >= 0 else { throw SystemError("install signal handlers", "\(signals)") }
    }

    /// The signals caught since the last call, in arrival order.
    public func take() -> [Int32] {
        var caught: [Int32] = []
        var bytes = [UInt8](repeating: 0, count: 64)
        while true {
            // Sound: reads at most bytes.count bytes into memory `bytes` owns.
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return caught }
            caught += bytes[0..<count].map { Int32($0) }
        }
    }

    /// Back to the default dispositions; the pipe is closed.
    public func close() {
        signals.withUnsafeBufferPointer { coffer_signal_relay_close(fd, $0.baseAddress, Int32($0.count)) }
    }
}
