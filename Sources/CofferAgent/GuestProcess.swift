import CofferSys
import CofferWire
import Glibc

/// A process the agent started for the host: its pid, the descriptors its output is read from,
/// the descriptor its input is written to, and how it ended once it has.
struct GuestProcess {
    let id: ProcessID
    let pid: pid_t
    /// Output descriptors still open (non-blocking): two pipes, or the terminal's master.
    var outputs: [(fd: Int32, stream: ProcessOutput.Stream)]
    /// Where standard input goes (a pipe, or the terminal's master); nil without stdin or once closed.
    var input: Int32?
    let terminal: Int32?
    /// Input received from the host and not yet taken by the process.
    var pendingInput: [UInt8] = []
    var closeInputWhenWritten = false
    var exit: ProcessExit?
    var roundsAfterExit = 0
    /// Set once a round after the exit brought no bytes.
    var drained = false

    /// Bounds what a host can make the agent buffer for a process that does not read its input.
    static let pendingInputLimit = 8 << 20

    /// Starts `request` as `user`, running the program at `path`.
    static func start(_ request: StartProcess, path: String, user: ResolvedUser) throws -> GuestProcess {
        var env = request.env
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=\(user.home)") }
        var parentEnds: [Int32] = [], childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        let stdio: (Int32, Int32, Int32)
        var outputs: [(fd: Int32, stream: ProcessOutput.Stream)] = []
        var input: Int32?
        var terminal: Int32?
        do {
            if request.tty {
                let pty = try PseudoTerminal.open(rows: request.rows, cols: request.cols)
                parentEnds.append(pty.master)
                childEnds.append(pty.slave)
                stdio = (pty.slave, pty.slave, pty.slave)
                outputs = [(pty.master, .stdout)]
                terminal = pty.master
                if request.stdin { input = pty.master }
            } else {
                let stdinEnd: Int32
                if request.stdin {
                    let pipe = try makePipe()
                    parentEnds.append(pipe.write)
                    childEnds.append(pipe.read)
                    stdinEnd = pipe.read
                    input = pipe.write
                } else {
                    let null = try FileDescriptor.open("/dev/null", O_RDWR)
                    childEnds.append(null.rawValue)
                    stdinEnd = null.rawValue
                }
                let output = try makePipe(), errors = try makePipe()
                parentEnds += [output.read, errors.read]
                childEnds += [output.write, errors.write]
                stdio = (stdinEnd, output.write, errors.write)
                outputs = [(output.read, .stdout), (errors.read, .stderr)]
            }
            for fd in parentEnds { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
            let pid = try Spawn.start(
                path: path, argv: request.argv, env: env, cwd: request.cwd, uid: user.uid, gid: user.gid, groups: user.groups,
                stdin: stdio.0, stdout: stdio.1, stderr: stdio.2, controllingTerminal: request.tty)
            return GuestProcess(id: request.id, pid: pid, outputs: outputs, input: input, terminal: terminal)
        } catch {
            for fd in parentEnds { close(fd) }
            throw error
        }
    }

    /// Every descriptor the agent still holds for the process, each once.
    var openDescriptors: Set<Int32> {
        Set(outputs.map(\.fd) + [input, terminal].compactMap { $0 })
    }

    mutating func closeAll() {
        for fd in openDescriptors { close(fd) }
        outputs = []
        input = nil
    }

    /// Closes standard input (end of file for the process). A terminal stays open: it is also the
    /// process's output.
    mutating func closeInput() {
        if let input, input != terminal { close(input) }
        input = nil
        pendingInput = []
    }

    /// Writes what the process will take of its pending input without blocking.
    mutating func flushInput() {
        guard let input else { return }
        while !pendingInput.isEmpty {
            // Sound: writes from memory `pendingInput` owns, within its count.
            let count = pendingInput.withUnsafeBytes { Glibc.write(input, $0.baseAddress, $0.count) }
            if count > 0 {
                pendingInput.removeFirst(count)
            } else if count < 0, errno == EINTR {
                continue
            } else if count < 0, errno == EAGAIN {
                return
            } else {
                // The process closed its input (EPIPE): what it did not read is dropped.
                closeInput()
                return
            }
        }
        if closeInputWhenWritten { closeInput() }
    }

    /// `program` itself when it contains a slash, else the first executable match in the `PATH`
    /// of `env` (or the usual default PATH), as execvp(3) searches.
    static func resolve(_ program: String, env: [String]) throws(AgentFailure) -> String {
        if program.contains("/") { return program }
        let path = env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw AgentFailure(.start, "\(program): not found in PATH \(path)")
    }
}
