import Foundation

/// The QEMU processes this launcher has running, so that a Ctrl-C or SIGTERM handler can stop them
/// before the launcher exits: nothing is left running when `coffer` returns, even interrupted.
public enum RunningVMs {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pids: Set<pid_t> = []

    static func add(_ pid: pid_t) { lock.withLock { _ = pids.insert(pid) } }
    static func remove(_ pid: pid_t) { lock.withLock { _ = pids.remove(pid) } }

    /// SIGKILLs every QEMU still registered and waits for each to be gone.
    public static func killAll() {
        let all = lock.withLock { pids }
        for pid in all {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }
}
