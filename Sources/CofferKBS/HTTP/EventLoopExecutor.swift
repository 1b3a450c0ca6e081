import NIOCore
import NIOPosix
import Synchronization

/// Runs Swift concurrency's global executor on NIO's event loops (the singleton group the server
/// and `KBSConnection` use), so an async request handler resumes on the thread that read the
/// request instead of hopping to the cooperative pool and back for every request and reply.
/// Process-wide and irreversible: only for a process that is a KBS server or load generator
/// (`coffer kbs serve`, `kbs-bench`), never a library caller's process. Nothing there may block
/// an event loop (no `EventLoopFuture.wait()`; SQLite runs on its own thread pool).
public enum EventLoopExecutor {
    private static let installed = Atomic<Bool>(false)

    /// Installs it once; false if it was already installed or the runtime refused.
    @discardableResult
    public static func adopt() -> Bool {
        guard installed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return false }
        return NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
