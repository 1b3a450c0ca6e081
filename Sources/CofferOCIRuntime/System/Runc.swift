#if canImport(Glibc)
import Glibc
#endif
import CCofferOCIRuntime
import CofferCore

/// runc, to which every container operation is delegated.
public enum Runc {
    /// runc's path: $COFFER_RUNC, else `runc` on PATH (Debian installs /usr/sbin/runc).
    public static func locate() throws(OCIError) -> String {
        if let override = getenv("COFFER_RUNC"), override.pointee != 0 { return String(cString: override) }
        guard let path = ChildProcess.locate("runc") else {
            throw .system("runc is not installed (Debian package runc): coffer-runtime runs every container through it")
        }
        return path
    }

    /// Replaces this process by runc with `arguments` (argv[1...]): runc's behaviour, exit status
    /// and standard streams are then exactly runc's. Returns only by throwing.
    public static func execute(_ arguments: [String]) throws(OCIError) -> Never {
        let runc = try locate()
        let argv = ([runc] + arguments).map { strdup($0) } + [nil]
        // Sound: argv is a NULL-terminated array of C strings that outlive the call (or the process).
        argv.withUnsafeBufferPointer { _ = execv(runc, $0.baseAddress!) }
        throw .system("cannot execute \(runc): \(FileSystem.errorText())")
    }

    /// Runs runc as a child with this process's standard streams; returns its wait status as an
    /// exit code (128+N when a signal ended it).
    public static func run(_ arguments: [String]) throws(OCIError) -> Int32 {
        let child = try spawn(executable: try locate(), arguments, stdout: 1)
        RuncChild.forwardSignals(to: child.pid)
        child.wait()
        RuncChild.forwardSignals(to: nil)
        return child.exitCode ?? 128 + (child.terminatingSignal ?? 0)
    }

    /// Runs runc with its standard output captured (standard error passed through, or with
    /// `quiet` captured with it: cleaning up after a failure must not add runc's complaints).
    public static func capture(_ arguments: [String], quiet: Bool = false) throws(OCIError) -> (status: Int32, output: String) {
        try capture(executable: try locate(), arguments, stderrToOutput: quiet)
    }

    /// Runs a host tool found on PATH with standard output and error captured together.
    static func capture(tool: String, _ arguments: [String]) throws(OCIError) -> (status: Int32, output: String) {
        guard let path = ChildProcess.locate(tool) else { throw .system("\(tool) is not installed on the host") }
        return try capture(executable: path, arguments, stderrToOutput: true)
    }

    private static func capture(executable: String, _ arguments: [String], stderrToOutput: Bool)
        throws(OCIError) -> (status: Int32, output: String)
    {
        var fds: [Int32] = [0, 0]
        guard coffer_oci_pipe(&fds) == 0 else { throw .system("pipe: \(FileSystem.errorText())") }
        let child: ChildProcess
        do {
            child = try spawn(executable: executable, arguments, stdout: fds[1], stderr: stderrToOutput ? fds[1] : 2)
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            // Sound: `chunk` has chunk.count writable bytes for the duration of the call.
            let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        close(fds[0])
        child.wait()
        return (child.exitCode ?? 128 + (child.terminatingSignal ?? 0), String(decoding: output, as: UTF8.self))
    }

    private static func spawn(executable: String, _ arguments: [String], stdout: Int32, stderr: Int32 = 2)
        throws(OCIError) -> ChildProcess
    {
        do {
            return try ChildProcess(executable: executable, arguments: arguments, stdin: 0, stdout: stdout, stderr: stderr)
        } catch {
            throw .system("cannot start \(executable): \(error)")
        }
    }
}

/// While coffer-runtime waits for a `runc run` it started, the signals a caller sends it (Ctrl-C,
/// a supervisor's SIGTERM) go on to runc, which forwards them to the container as it does when
/// it is called directly.
enum RuncChild {
    nonisolated(unsafe) static var pid: pid_t = 0
    static let forwarded = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH]

    static func forwardSignals(to child: pid_t?) {
        pid = child ?? 0
        for signal in forwarded {
            if child != nil {
                // Sound: the handler only reads a word and calls kill, which is async-signal-safe.
                Glibc.signal(signal) { received in if RuncChild.pid > 0 { Glibc.kill(RuncChild.pid, received) } }
            } else {
                Glibc.signal(signal, SIG_DFL)
            }
        }
    }
}
