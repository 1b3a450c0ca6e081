import CofferSys
import CofferWire
import Glibc

/// The image's program: started as the host's `start` frame asks, its output relayed as `stdout`
/// and `stderr` frames, its end reported as an `exit` frame.
struct Workload {
    let port: FileDescriptor

    /// Reads frames from the port until a `start` arrives.
    static func awaitStart(on port: FileDescriptor) throws -> StartProcess {
        var decoder = FrameDecoder()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let frame = try decoder.next() {
                /// The host may only ask to start the workload here; anything else is refused.
                guard frame.kind == .start else { throw AgentFailure(.protocolViolation, "expected start, received \(frame.kind)") }
                return try StartProcess(frame)
            }
            // Sound: reads at most buffer.count bytes into memory `buffer` owns.
            let count = buffer.withUnsafeMutableBytes { read(port.rawValue, $0.baseAddress, $0.count) }
            if count < 0, Glibc.errno == EINTR { continue }
            guard count > 0 else { throw AgentFailure(.protocolViolation, "the host closed the channel before start") }
            decoder.append(buffer[0..<count])
        }
    }

    /// Starts the process, relays its output until it exits, and returns how it ended.
    func run(_ start: StartProcess) throws -> ProcessExit {
        let path = try Self.resolve(start.argv[0], env: start.env)
        let output = try makePipe(), errors = try makePipe()
        let null = try FileDescriptor.open("/dev/null", O_RDWR)
        let pid: pid_t
        do {
            defer {
                null.close()
                close(output.write)
                close(errors.write)
            }
            pid = try Spawn.start(
                path: path, argv: start.argv, env: start.env, cwd: start.cwd, uid: start.uid, gid: start.gid,
                stdin: null.rawValue, stdout: output.write, stderr: errors.write)
        } catch let failure as Spawn.Failure {
            close(output.read)
            close(errors.read)
            /// EIO from execve means the kernel could not read the program: under dm-verity that is
            /// a block that does not hash to the measured root hash.
            if failure.errno == EIO {
                throw AgentFailure(.integrity, "\(failure): the root file system failed dm-verity verification (the image on disk does not match its measured root hash)")
            }
            throw AgentFailure(.start, "\(failure)")
        }
        return try relay(pid: pid, output: output.read, errors: errors.read)
    }

    /// Forwards the pipes' bytes until the process exits, then what is left in them.
    private func relay(pid: pid_t, output: Int32, errors: Int32) throws -> ProcessExit {
        var open: [(fd: Int32, kind: FrameKind)] = [(output, .stdout), (errors, .stderr)]
        defer { for entry in open { close(entry.fd) } }
        for entry in open { _ = fcntl(entry.fd, F_SETFL, O_NONBLOCK) }
        var buffer = [UInt8](repeating: 0, count: 32768)
        var exit: ProcessExit?
        var roundsAfterExit = 0
        while true {
            var descriptors = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&descriptors, nfds_t(descriptors.count), exit == nil ? 50 : 0)
            var index = 0
            var drained = true
            while index < open.count {
                // Sound: reads at most buffer.count bytes into memory `buffer` owns.
                let count = buffer.withUnsafeMutableBytes { read(open[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    try port.writeAll(Frame(open[index].kind, Array(buffer[0..<count])).encoded())
                    drained = false
                    index += 1
                } else if count == 0 {
                    close(open[index].fd)
                    open.remove(at: index)
                } else {
                    index += 1
                }
            }
            // PID 1 reaps every orphan; only the workload's own end is reported.
            while let (reaped, status) = Spawn.reap() {
                guard reaped == pid else { continue }
                let (signaled, value) = Spawn.decode(status)
                exit = signaled ? .signaled(UInt8(clamping: value)) : .exited(UInt8(truncatingIfNeeded: value))
            }
            // Once the workload has exited, what its descendants still hold open is not waited for:
            // what is buffered is relayed, and a descendant that keeps writing gets 64 more rounds.
            if let exit {
                roundsAfterExit += 1
                if drained || open.isEmpty || roundsAfterExit > 64 { return exit }
            }
        }
    }

    /// `program` itself when it contains a slash, else the first executable match in the `PATH`
    /// of `env` (or the usual default PATH), as execvp(3) searches.
    static func resolve(_ program: String, env: [String]) throws -> String {
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
