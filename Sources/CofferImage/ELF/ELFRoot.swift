#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A directory of the build host seen as the root of the file system that ld.so will search: "/"
/// for the host itself, or an unpacked root file system. Paths are resolved the way the kernel
/// resolves them for a process chrooted there: symbolic links are followed component by
/// component, absolute link targets restart at the root and ".." never climbs above it.
struct ELFRoot: Sendable {
    /// A file found in the root: its path inside the root with every link resolved, the host
    /// path to read it from, and its identity (ld.so loads one file only once, under whatever
    /// name it was first found: glibc `_dl_map_object_from_fd` compares device and inode).
    struct Found: Sendable, Equatable {
        var resolvedPath: String
        var hostPath: String
        var device: UInt64
        var inode: UInt64
    }

    static let maxLinks = 40

    /// The root without a trailing slash; "" for "/".
    let prefix: String

    init(_ root: String) {
        var trimmed = root
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        prefix = trimmed
    }

    /// The regular file at absolute `path` inside the root, or nil if there is none (missing,
    /// a directory, a dangling link). Throws only on a link loop.
    func find(_ path: String) throws(ELFError) -> Found? {
        var pending = Array(path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed())
        var resolved: [String] = []
        var links = 0
        while let component = pending.popLast() {
            if component == "." { continue }
            if component == ".." {
                /// Clamped at the root: a link such as `../../../etc` inside an unpacked root
                /// must not reach the build host's files.
                _ = resolved.popLast()
                continue
            }
            let host = prefix + "/" + (resolved + [component]).joined(separator: "/")
            var info = stat()
            guard lstat(host, &info) == 0 else { return nil }
            guard info.st_mode & S_IFMT == S_IFLNK else {
                resolved.append(component)
                continue
            }
            links += 1
            guard links <= Self.maxLinks else { throw .symlinkLoop(path: path) }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(host, &buffer, Int(PATH_MAX))
            guard count > 0 else { return nil }
            let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") { resolved = [] }
            pending.append(contentsOf: target.split(separator: "/", omittingEmptySubsequences: true).map(String.init).reversed())
        }
        let host = prefix + "/" + resolved.joined(separator: "/")
        var info = stat()
        guard stat(host, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Found(
            resolvedPath: "/" + resolved.joined(separator: "/"), hostPath: host,
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The host path of `path` inside the root, links not resolved.
    func hostPath(_ path: String) -> String { prefix + (path.hasPrefix("/") ? path : "/" + path) }
}
