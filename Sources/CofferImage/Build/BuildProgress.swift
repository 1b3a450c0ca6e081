import Foundation

/// Build progress: a phase name plus bytes and files processed. Implementations decide how (or
/// whether) to show it; the builder only counts.
public protocol BuildProgress: Sendable {
    func phase(_ name: String)
    func advance(bytes: Int64)
    func advance(files: Int)
    func finish()
}

extension BuildProgress {
    public func advance(bytes: Int64) {}
    public func advance(files: Int) {}
}

/// Reports nothing: used when output is not a terminal and in tests.
public struct SilentProgress: BuildProgress {
    public init() {}
    public func phase(_ name: String) {}
    public func finish() {}
}

/// A single self-rewriting status line on a terminal, at most ten updates a second.
public final class TerminalProgress: BuildProgress, @unchecked Sendable {
    private let lock = NSLock()
    private var name = ""
    private var bytes: Int64 = 0
    private var files = 0
    private var lastDraw = Date.distantPast
    private let fd: Int32

    /// Nil unless `fd` is a terminal: progress must stay out of logs and pipes.
    public init?(fd: Int32 = 2) {
        guard isatty(fd) == 1 else { return nil }
        self.fd = fd
    }

    public func phase(_ name: String) {
        lock.withLock {
            self.name = name
            draw(force: true)
        }
    }

    public func advance(bytes: Int64) {
        lock.withLock {
            self.bytes += bytes
            draw(force: false)
        }
    }

    public func advance(files: Int) {
        lock.withLock {
            self.files += files
            draw(force: false)
        }
    }

    public func finish() {
        lock.withLock { emit("\r\u{1B}[K") }
    }

    private func draw(force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let megabytes = Double(bytes) / 1_048_576
        emit("\r\u{1B}[K\(name)  \(files) files, \((megabytes * 10).rounded() / 10) MiB")
    }

    private func emit(_ text: String) {
        let bytes = Array(text.utf8)
        // Sound: writes from a live array for its own count.
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
