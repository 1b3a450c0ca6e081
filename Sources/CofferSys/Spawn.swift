import CCofferSys
import Glibc

/// A child process started by the agent.
public enum Spawn {
    /// Why a child could not be started: the step that failed and the kernel's errno.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Step: Int32, Sendable {
            case stdio = 1, group, user, workingDirectory, exec, terminal
        }
        public var step: Step
        public var errno: Int32
        public var subject: String

        public var description: String {
            let what = switch step {
            case .stdio: "setting up standard I/O for"
            case .group: "switching to the group of"
            case .user: "switching to the user of"
            case .workingDirectory: "entering the working directory of"
            case .exec: "executing"
            case .terminal: "making the terminal the controlling terminal of"
            }
            return "\(what) \(subject): \(String(cString: strerror(errno))) (errno \(errno))"
        }
    }

    /// Starts `path` with `argv` and `env` in `cwd` as `uid`:`gid` with supplementary `groups`, in
    /// a new session, with the given descriptors as its standard input, output and error (with
    /// `controllingTerminal`, standard input is a terminal that becomes the session's). Returns
    /// its pid once execve(2) succeeded.
    public static func start(
        path: String, argv: [String], env: [String], cwd: String, uid: UInt32, gid: UInt32, groups: [UInt32] = [],
        stdin: Int32, stdout: Int32, stderr: Int32, controllingTerminal: Bool = false
    ) throws -> pid_t {
        var step: Int32 = 0, error: Int32 = 0
        let pid = withCStrings(argv) { argvPointer in
            withCStrings(env) { envPointer in
                groups.withUnsafeBufferPointer { groupPointer in
                    coffer_spawn(
                        path, argvPointer, envPointer, cwd, uid, gid, groupPointer.baseAddress, UInt32(groups.count),
                        stdin, stdout, stderr, controllingTerminal ? 1 : 0, &step, &error)
                }
            }
        }
        if pid < 0 { throw SystemError("fork", path) }
        if pid == 0 { throw Failure(step: Failure.Step(rawValue: step) ?? .exec, errno: error, subject: path) }
        return pid
    }

    /// Reaps one exited child without blocking: its pid and wait status, or nil when none has exited.
    public static func reap() -> (pid: pid_t, status: Int32)? {
        var status: Int32 = 0
        let pid = waitpid(-1, &status, WNOHANG)
        return pid > 0 ? (pid, status) : nil
    }

    /// A wait status as (exited, code) or (signaled, signal).
    public static func decode(_ status: Int32) -> (signaled: Bool, value: Int32) {
        if coffer_wait_status_signaled(status) != 0 { return (true, coffer_wait_status_signal(status)) }
        return (false, coffer_wait_status_code(status))
    }

    /// Calls `body` with a NULL-terminated array of C strings that lives for the call.
    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        // Sound: strdup'd copies are freed after `body`, which must not keep the pointers.
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// A pipe whose ends are close-on-exec (coffer_spawn dup2's the child's end onto 0-2, which clears
/// the flag there).
public func makePipe() throws(SystemError) -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    guard coffer_pipe_cloexec(&fds) == 0 else { throw SystemError("pipe2", "workload stdio") }
    return (fds[0], fds[1])
}

extension Spawn {
    /// Starts `path` so that the kernel kills it when the calling thread ends (PR_SET_PDEATHSIG):
    /// a VM's QEMU dies with its monitor even when the monitor is killed with SIGKILL. Its stdout
    /// and stderr go to `output`. Call from the launcher's main thread only.
    public static func tied(path: String, argv: [String], env: [String], output: Int32) throws(SystemError) -> pid_t {
        let pid = withCStrings(argv) { argvPointer in
            withCStrings(env) { envPointer in coffer_spawn_tied(path, argvPointer, envPointer, output) }
        }
        guard pid > 0 else { throw SystemError("fork", path) }
        return pid
    }
}
