import CofferCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads byte ranges of a file that claims to be ELF. Only the parts the loader looks at are read
/// (headers, PT_INTERP, PT_DYNAMIC and the dynamic string table), never the whole file, and every
/// range is checked against the file's size before it is read.
final class ELFFile {
    let path: String
    let size: UInt64
    private let descriptor: Int32

    init(path: String) throws(ELFError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = errno
            close(fd)
            throw .unreadable(path: path, errno: error)
        }
        self.path = path
        self.descriptor = fd
        self.size = UInt64(max(0, info.st_size))
    }

    deinit { close(descriptor) }

    /// `count` bytes at `offset`; throws `truncated` naming `field` if the file is shorter.
    func read(_ count: UInt64, at offset: UInt64, _ field: String) throws(ELFError) -> [UInt8] {
        let (end, overflow) = offset.addingReportingOverflow(count)
        /// An attacker-chosen offset or size must not make us read past the end or allocate
        /// more than the file holds.
        guard !overflow, end <= size else {
            throw .truncated(path: path, detail: "\(field) needs \(count) bytes at offset \(offset), file is \(size) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(count))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress.map { $0 + done }, buffer.count - done, off_t(offset) + off_t(done))
            }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw .unreadable(path: path, errno: n < 0 ? errno : EIO) }
            done += n
        }
        return bytes
    }

    /// A `ByteReader` over `count` bytes at `offset`.
    func reader(_ count: UInt64, at offset: UInt64, _ field: String) throws(ELFError) -> ByteReader {
        ByteReader(try read(count, at: offset, field))
    }
}

extension ByteReader.Truncated {
    func elfError(_ path: String) -> ELFError { .truncated(path: path, detail: description) }
}
