import CofferCore
import Foundation

/// A build's private directory under `$COFFER_HOME/tmp`, locked for as long as the build runs.
///
/// A build that dies before it can clean up (Ctrl-C, `kill -9`, a power cut) leaves its directory
/// behind, with up to a whole unpacked root file system in it. Each build holds an exclusive
/// flock(2) on its directory while it runs; the kernel drops the lock when the process ends,
/// however it ends, so the next build removes every build directory that nobody holds. Creating
/// and locking happen under a store-wide lock (on `tmp/` itself), so a sweep can never take a directory
/// between its mkdtemp and its flock.
public final class BuildDirectory: @unchecked Sendable {
    public let path: String
    /// The open directory holding the lock; -1 once released. Owned by one build, used from one thread.
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Drops the lock (the directory itself is removed or renamed by the builder).
    public func release() {
        if descriptor >= 0 {
            Self.held.withLock { _ = $0.remove(path) }
            close(descriptor)
        }
        descriptor = -1
    }

    /// The build directories this process holds, for `removeHeld` to find from a signal handler.
    private static let held = LockedPaths()

    /// Removes every build directory this process holds, at once: for an interrupted build
    /// (Ctrl-C), before the process exits. Best effort; whatever remains is swept by the next build.
    public static func removeHeld() {
        for path in held.withLock({ $0 }) { FileSystem.removeTree(path) }
    }

    private final class LockedPaths: @unchecked Sendable {
        private let lock = NSLock()
        private var paths: Set<String> = []
        func withLock<T>(_ body: (inout Set<String>) -> T) -> T { lock.withLock { body(&paths) } }
    }

    static let prefix = "build-"

    /// Removes the build directories of builds that are gone, then makes and locks a new one.
    static func make(in temporary: String) throws(CofferError) -> BuildDirectory {
        try FileSystem.makeDirectory(temporary, mode: 0o700)
        let storeLock = open(temporary, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard storeLock >= 0 else { throw FileSystem.error("cannot open \(temporary)") }
        defer { close(storeLock) }
        guard lockWaiting(storeLock) else { throw FileSystem.error("cannot lock \(temporary)") }

        sweep(temporary)
        var template = Array("\(temporary)/\(prefix)XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else { throw FileSystem.error("cannot create a build directory in \(temporary)") }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = FileSystem.error("cannot lock the build directory \(path)")
            if descriptor >= 0 { close(descriptor) }
            FileSystem.removeTree(path)
            throw error
        }
        held.withLock { _ = $0.insert(path) }
        return BuildDirectory(path: path, descriptor: descriptor)
    }

    /// Removes every `build-*` directory whose lock is free: its build ended without cleaning up.
    /// A directory another build holds is left alone. Failures are ignored: this is tidying.
    private static func sweep(_ temporary: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        for name in names where name.hasPrefix(prefix) {
            let path = "\(temporary)/\(name)"
            let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { FileSystem.removeTree(path) }
        }
    }

    private static func lockWaiting(_ descriptor: Int32) -> Bool {
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { return false }
        }
        return true
    }
}
