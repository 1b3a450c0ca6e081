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
