import CofferCore
import CofferSys
import CofferVMM
import CofferWire
import Foundation

/// A client attached to one process in a VM (the workload for `run`/`start -a`, or an exec):
/// relays its output to this process's stdout/stderr, this process's stdin to it (with `stdin`),
/// the terminal's size (with `tty`: the local terminal is put in raw mode meanwhile), and Ctrl-C
/// or SIGTERM as signals to it (without a tty). Returns the process's shell status.
struct Attachment {
    let client: ControlClient
    let id: ProcessID
    let stdin: Bool
    let tty: Bool

    enum End: Error {
        /// The process could not be started or the VM failed: the sender's words.
        case failure(AgentFailure)
    }

    func run() throws -> Int32 {
        let terminal = tty && isatty(0) == 1 ? RawTerminal() : nil
        defer { terminal?.restore() }
        if tty, let size = RawTerminal.size() { try? client.send(TerminalSize(id, rows: size.rows, cols: size.cols)) }
        // Without a tty, Ctrl-C and SIGTERM go to the process (as `docker run`'s sig-proxy); with
        // one, they arrive as keystrokes through the raw terminal. SIGWINCH resizes the terminal.
        let relay = try SignalRelay(tty ? [SIGTERM, SIGHUP, SIGWINCH] : [SIGTERM, SIGHUP, SIGINT])
        defer { relay.close() }

        var inputOpen = stdin
        var buffer = [UInt8](repeating: 0, count: 32768)
        while true {
            while let frame = try client.buffered() {
                if let status = try handle(frame) { return status }
            }
            var watched = [pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: relay.fd, events: Int16(POLLIN), revents: 0)]
            if inputOpen { watched.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            _ = poll(&watched, nfds_t(watched.count), -1)
            if watched[0].revents != 0 { try client.read() }
            if watched[1].revents != 0 { forward(relay.take()) }
            if inputOpen, watched.count > 2, watched[2].revents != 0 {
                // Sound: reads at most buffer.count bytes into memory `buffer` owns.
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count > 0 {
                    try client.send(StdinData(id, Array(buffer[0..<count])))
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    inputOpen = false
                    try client.send(StdinData(id, []))
                }
            }
        }
    }

    /// Output is written out; the end returns the status (or throws the failure).
    private func handle(_ frame: Frame) throws -> Int32? {
        switch frame.kind {
        case .stdout, .stderr:
            let output = try ProcessOutput(frame)
            guard output.id == id else { return nil }
            let fd: Int32 = output.stream == .stdout ? 1 : 2
            try? FileHandle(fileDescriptor: fd, closeOnDealloc: false).write(contentsOf: output.bytes)
            return nil
        case .exit:
            let ended = try ProcessEnded(frame)
            return ended.id == id ? ended.exit.shellStatus : nil
        case .failure:
            throw End.failure(try AgentFailure(frame))
        default:
            return nil
        }
    }

    /// Caught signals: a resize sends the terminal's new size, any other signal goes to the process.
    private func forward(_ signals: [Int32]) {
        for number in signals {
            if number == SIGWINCH {
                if let size = RawTerminal.size() { try? client.send(TerminalSize(id, rows: size.rows, cols: size.cols)) }
            } else {
                try? client.send(SignalProcess(id, signal: UInt8(number)))
            }
        }
    }
}

/// The local terminal in raw mode while attached with `-t`, restored afterwards.
final class RawTerminal {
    private var saved = termios()
    private var active = false

    init() {
        guard tcgetattr(0, &saved) == 0 else { return }
        var raw = saved
        cfmakeraw(&raw)
        active = tcsetattr(0, TCSANOW, &raw) == 0
    }

    func restore() {
        if active { _ = tcsetattr(0, TCSANOW, &saved) }
        active = false
    }

    /// The size of the terminal on standard input (or output), if either is one.
    static func size() -> (rows: UInt16, cols: UInt16)? {
        var size = winsize()
        for fd: Int32 in [0, 1] where ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 && size.ws_row > 0 {
            return (size.ws_row, size.ws_col)
        }
        return nil
    }
}
