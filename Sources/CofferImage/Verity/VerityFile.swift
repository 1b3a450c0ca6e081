#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file descriptor for the data and hash files, with reads and writes that loop until done and
/// turn failures into `VerityError.io` naming the file. Positioned I/O only, so one descriptor can
/// serve several reading threads at once.
final class VerityFile: Sendable {
    let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    static func openForReading(_ path: String) throws(VerityError) -> VerityFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        return VerityFile(path: path, descriptor: fd)
    }

    /// Creates or truncates `path`. Not atomic: callers that need all-or-nothing (the image
    /// builder) write into a temporary directory and rename it when the whole image is done.
    static func create(_ path: String) throws(VerityError) -> VerityFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
        return VerityFile(path: path, descriptor: fd)
    }

    func size() throws(VerityError) -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        return Int64(info.st_size)
    }

    /// Fills `buffer` from `offset`; a file that ends early is an error (it shrank under us).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(VerityError) {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, base + done, buffer.count - done, off_t(offset + Int64(done)))
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw .io(path: path, operation: "read", errno: errno) }
            guard n > 0 else { throw .io(path: path, operation: "read (file shorter than expected)", errno: EIO) }
            done += n
        }
    }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: Int64) throws(VerityError) {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let n = pwrite(descriptor, base + done, buffer.count - done, off_t(offset + Int64(done)))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw .io(path: path, operation: "write", errno: n < 0 ? errno : ENOSPC) }
            done += n
        }
    }

    func sync() throws(VerityError) {
        guard fsync(descriptor) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
    }
}
