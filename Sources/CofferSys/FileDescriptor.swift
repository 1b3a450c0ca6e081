import CCofferSys
import Glibc

/// An open file descriptor the caller closes. Opened close-on-exec, so nothing the agent opens
/// leaks into the workload it starts.
public struct FileDescriptor: Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// O_DIRECT: I/O that bypasses the page cache, with buffers, offsets and lengths aligned to
    /// the device's logical block size.
    public static let direct: Int32 = coffer_o_direct()

    public static func open(_ path: String, _ flags: Int32, mode: UInt32 = 0) throws(SystemError) -> FileDescriptor {
        let fd = try retryingInterrupts("open", path) { coffer_open(path, flags, mode) }
        return FileDescriptor(rawValue: fd)
    }

    /// `name` inside the open directory `self` (openat(2)); with O_NOFOLLOW a symlink as the last
    /// component fails with ELOOP instead of being followed.
    public func open(_ name: String, _ flags: Int32, mode: UInt32 = 0) throws(SystemError) -> FileDescriptor {
        let fd = try retryingInterrupts("openat", name) { coffer_openat(rawValue, name, flags, mode) }
        return FileDescriptor(rawValue: fd)
    }

    public func close() { _ = Glibc.close(rawValue) }

    /// Writes all of `bytes`, continuing after short writes.
    public func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        var written = 0
        while written < bytes.count {
            // Sound: the range lies inside `bytes`, which outlives the call.
            let count = bytes.withUnsafeBytes { Glibc.write(rawValue, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if Glibc.errno == EINTR { continue }
                throw SystemError("write", "fd \(rawValue)")
            }
            written += count
        }
    }

    /// Reads until end of file; for small files such as those under /proc and /sys.
    public func readToEnd(limit: Int = 1 << 20) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while result.count < limit {
            // Sound: reads at most chunk.count bytes into memory `chunk` owns.
            let count = chunk.withUnsafeMutableBytes { Glibc.read(rawValue, $0.baseAddress, $0.count) }
            if count < 0 {
                if Glibc.errno == EINTR { continue }
                throw SystemError("read", "fd \(rawValue)")
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }
}

/// The contents of a small file, or nil when it does not exist.
public func readFile(_ path: String) throws(SystemError) -> [UInt8]? {
    let fd: FileDescriptor
    do {
        fd = try FileDescriptor.open(path, O_RDONLY)
    } catch where error.errno == ENOENT {
        return nil
    }
    defer { fd.close() }
    return try fd.readToEnd()
}
