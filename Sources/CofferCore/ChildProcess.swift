#if canImport(Glibc)
import Glibc
#endif

/// A child process that Coffer spawns and alone reaps: posix_spawn, then waitpid on its own pid.
///
/// Host tools (mkfs.erofs) and QEMU are started through this rather than Foundation's Process,
/// whose run loop and termination monitoring decide `isRunning` on their own schedule: a
/// supervisor that must kill QEMU at a deadline needs the kernel's answer, not a cached one.
/// Owned by one caller at a time (not thread-safe); `kill` and `wait` are idempotent.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    /// The raw wait status once the child has been reaped.
    public private(set) var waitStatus: Int32?

    /// Starts `executable` with `arguments` (argv[1...]) and the caller's environment. Standard
    /// input, output and error are the given descriptors, or /dev/null when nil; no other
    /// descriptor of the parent is passed on beyond what is already close-on-exec. With
    /// `newSession` it leads a session of its own (no controlling terminal, so a Ctrl-C typed at
    /// the launcher's terminal does not reach it).
    public init(
        executable: String, arguments: [String], stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil,
        newSession: Bool = false
    ) throws(CofferError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source, flags) in [(Int32(0), stdin, O_RDONLY), (1, stdout, O_WRONLY), (2, stderr, O_WRONLY)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", flags, 0)
            }
        }
        // The originals are not the child's business once duplicated onto 0, 1 and 2.
        for source in Set([stdin, stdout, stderr].compactMap { $0 }) where source > 2 {
            posix_spawn_file_actions_addclose(&actions, source)
        }
        // The launcher may ignore or catch SIGINT/SIGTERM to clean up first, and the Swift runtime
        // ignores SIGPIPE; the child starts with the default dispositions.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // Nor does it inherit a blocked signal mask (it survives exec): a monitor started by a
        // launcher that itself inherited SIGTERM blocked would never see `kill -TERM`.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        // POSIX_SPAWN_SETSID is glibc's 0x80 (spawn.h, not exported to Swift).
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | (newSession ? 0x80 : 0))
        Self.markInheritedDescriptorsCloseOnExec(keeping: [stdin, stdout, stderr].compactMap { $0 })
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        // Sound: argv is a NULL-terminated array of C strings alive until posix_spawn returns.
        let result = argv.withUnsafeBufferPointer { posix_spawn(&pid, executable, &actions, &attributes, $0.baseAddress!, environ) }
        guard result == 0 else {
            throw CofferError(.system, "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// Sets close-on-exec on every descriptor above 2 this process holds except `keeping`: a
    /// descriptor it inherited without the flag (a caller's pipe, the socket Foundation's
    /// `Process` watches to learn that its child and all descendants ended) must not live on in a
    /// long-running child such as a VM's monitor, or the caller waits for it forever.
    static func markInheritedDescriptorsCloseOnExec(keeping: [Int32]) {
        guard let directory = opendir("/proc/self/fd") else { return }
        var descriptors: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let fd = Int32(name), fd > 2, !keeping.contains(fd) { descriptors.append(fd) }
        }
        closedir(directory)
        for fd in descriptors {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// A child this process started by other means (a fork it did itself), reaped here from now on.
    public init(adopting pid: pid_t) { self.pid = pid }

    /// The absolute path of `name` in `$PATH`, then /usr/sbin and /sbin (root's tools such as
    /// mkfs.erofs live there, and a non-login PATH may lack them); nil when not executable anywhere.
    public static func locate(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Whether the child still runs, asked of the kernel (reaping it if it has ended).
    public var isRunning: Bool {
        guard waitStatus == nil else { return false }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid { waitStatus = status }
        // ECHILD: not our child any more (reaped elsewhere); never signal that pid again.
        if reaped < 0 && errno == ECHILD { waitStatus = 0 }
        return waitStatus == nil
    }

    /// Blocks until the child ends; returns the raw wait status.
    @discardableResult
    public func wait() -> Int32 {
        if let waitStatus { return waitStatus }
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, 0)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { status = 0; break }
        }
        waitStatus = status
        return status
    }

    /// Sends `signal` unless the child was already reaped (so a reused pid is never signalled),
    /// then, for SIGKILL, waits for it to be gone.
    public func kill(_ signal: Int32 = SIGKILL) {
        guard waitStatus == nil else { return }
        _ = Glibc.kill(pid, signal)
        if signal == SIGKILL { wait() }
    }

    /// The exit code, or nil if the child has not ended or was killed by a signal.
    public var exitCode: Int32? {
        guard let status = waitStatus, status & 0x7f == 0 else { return nil }
        return (status >> 8) & 0xff
    }

    /// The signal that ended the child, if one did.
    public var terminatingSignal: Int32? {
        guard let status = waitStatus, status & 0x7f != 0, status & 0x7f != 0x7f else { return nil }
        return status & 0x7f
    }

    /// As Foundation reports it: the exit code, else the terminating signal's number.
    public var terminationStatus: Int32 { exitCode ?? terminatingSignal ?? -1 }
}
