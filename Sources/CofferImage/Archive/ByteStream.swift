#if canImport(Glibc)
import Glibc
#endif

/// A source of bytes read front to back: a file, or the inflated contents of one.
protocol ByteStream: AnyObject {
    /// Fills at most `buffer.count` bytes and returns how many; 0 means the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Bytes consumed from the underlying file so far (compressed bytes for a gzip stream).
    var fileBytesRead: UInt64 { get }
}

/// A file read sequentially through its descriptor, so that an archive of any size is streamed
/// rather than loaded.
final class FileByteStream: ByteStream {
    let path: String
    private let fd: Int32
    private(set) var fileBytesRead: UInt64 = 0
    /// The file's size when it is a regular file (for progress).
    let size: UInt64?

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ArchiveError.unreadable(archive: path, reason: String(cString: strerror(errno)))
        }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ArchiveError.unreadable(archive: path, reason: "is a directory, not an archive file")
        }
        self.fd = fd
        self.size = (info.st_mode & S_IFMT) == S_IFREG ? UInt64(info.st_size) : nil
    }

    deinit { close(fd) }

    /// The first bytes of the file, read without moving the stream (used to detect compression).
    func peek(count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, 0) }
        guard n >= 0 else {
            throw ArchiveError.unreadable(archive: path, reason: String(cString: strerror(errno)))
        }
        return Array(bytes.prefix(n))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 {
                fileBytesRead &+= UInt64(n)
                return n
            }
            if errno == EINTR { continue }
            throw ArchiveError.unreadable(archive: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Opens an archive file, inflating it when it is gzip-compressed (detected by its magic number,
/// RFC 1952 §2.3.1: 1f 8b), and naming other compressions that Coffer does not read.
enum ArchiveInput {
    static func open(path: String) throws -> (stream: any ByteStream, size: UInt64?) {
        let file = try FileByteStream(path: path)
        let magic = try file.peek(count: 6)
        if magic.starts(with: [0x1F, 0x8B]) {
            return (try GzipByteStream(source: file, name: path), file.size)
        }
        if magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) {
            throw ArchiveError.unsupportedCompression(archive: path, format: "zstd")
        }
        if magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) {
            throw ArchiveError.unsupportedCompression(archive: path, format: "xz")
        }
        if magic.starts(with: [0x42, 0x5A, 0x68]) {
            throw ArchiveError.unsupportedCompression(archive: path, format: "bzip2")
        }
        return (file, file.size)
    }
}
