import CofferCore
import Foundation

/// Writes that either happen whole or not at all.
///
/// The image store must survive a crash or a full disk at any point without a half-written
/// manifest, tag list or key: data goes to a temporary file in the same directory, is flushed to
/// disk, and is renamed over the destination (rename(2) is atomic within a file system); the
/// directory is then flushed so the rename itself is durable.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws(CofferError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileSystem.error("cannot create \(temporary)") }
        var failure: CofferError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                // Sound: the pointer and count stay inside `raw` for the duration of the closure.
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = FileSystem.error("cannot write \(path)")
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = FileSystem.error("cannot flush \(path)") }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = FileSystem.error("cannot replace \(path)") }
        if let failure {
            unlink(temporary)
            throw failure
        }
        FileSystem.syncDirectory(directory)
    }
}

/// Small file-system operations with errors that name the path and the system's reason.
public enum FileSystem {
    static func error(_ what: String, errno code: Int32 = errno) -> CofferError {
        let reason = String(cString: strerror(code))
        let kind: CofferError.Code = code == ENOSPC || code == EDQUOT ? .system : (code == ENOENT ? .notFound : .system)
        return CofferError(kind, "\(what): \(reason)")
    }

    public static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(CofferError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw CofferError(.system, "cannot create directory \(path)", cause: error as NSError)
        }
    }

    /// Removes a tree; used for temporary build directories, so failures are ignored.
    public static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    public static func size(_ path: String) throws(CofferError) -> Int64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw error("cannot stat \(path)") }
        return Int64(st.st_size)
    }

    public static func read(_ path: String) throws(CofferError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CofferError(exists(path) ? .system : .notFound, "cannot read \(path)")
        }
        return data
    }
}
