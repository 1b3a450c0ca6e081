#if canImport(Glibc)
import Glibc
#endif

/// Path resolution confined to a root directory, in the manner of a secure join: every component
/// is looked up with lstat, symlinks already in the tree are followed but re-rooted (an absolute
/// target starts again at the root, `..` never climbs above it), so the resolved path contains no
/// symlinks and names something inside the root.
///
/// The staging directory is written only by the extraction itself (one thread, no other
/// writer), so a component cannot change between its lstat and its use.
struct RootedPaths {
    /// Absolute path of the root directory, without a trailing slash (empty for "/").
    let root: String

    enum Failure: Error, Equatable {
        case notADirectory(String)
        case tooManySymlinks(String)
        case system(String, String)
    }

    init(root: String) {
        var r = root
        while r.count > 1, r.hasSuffix("/") { r.removeLast() }
        self.root = r == "/" ? "" : r
    }

    /// The host path of components already resolved inside the root.
    func hostPath(_ components: [String]) -> String {
        components.isEmpty ? (root.isEmpty ? "/" : root) : root + "/" + components.joined(separator: "/")
    }

    /// Resolves `components` inside the root, following symlinks in every component (and the last
    /// one too when `followLast`). Missing directories are created (mode 0755, reported through
    /// `created`) when `createMissing`; otherwise a missing component ends the walk and nil is
    /// returned, unless it is the last, which may be absent.
    func resolve(_ components: [String], followLast: Bool, createMissing: Bool,
                 created: (([String]) -> Void)? = nil) throws(Failure) -> [String]? {
        var resolved: [String] = []
        var pending = ArraySlice(components.reversed())  // a stack: next component at the end
        var symlinksFollowed = 0
        while let part = pending.popLast() {
            if part.isEmpty || part == "." { continue }
            if part == ".." {
                _ = resolved.popLast()  // clamped: `..` at the root stays at the root
                continue
            }
            let isLast = pending.isEmpty
            let candidate = resolved + [part]
            let path = hostPath(candidate)
            var info = stat()
            if lstat(path, &info) != 0 {
                guard errno == ENOENT else { throw .system(path, String(cString: strerror(errno))) }
                if createMissing {
                    guard mkdir(path, 0o755) == 0 else { throw .system(path, String(cString: strerror(errno))) }
                    created?(candidate)
                } else if !isLast {
                    return nil
                }
                resolved = candidate
                continue
            }
            let type = info.st_mode & S_IFMT
            if type == S_IFLNK, !isLast || followLast {
                symlinksFollowed += 1
                /// Same limit as the kernel's MAXSYMLINKS: a loop of links must end in an error.
                guard symlinksFollowed <= 40 else { throw .tooManySymlinks(candidate.joined(separator: "/")) }
                let target = try readLink(path)
                if target.hasPrefix("/") { resolved = [] }
                for piece in target.split(separator: "/").reversed() { pending.append(String(piece)) }
                continue
            }
            if !isLast, type != S_IFDIR { throw .notADirectory(candidate.joined(separator: "/")) }
            if isLast, createMissing, type != S_IFDIR { throw .notADirectory(candidate.joined(separator: "/")) }
            resolved = candidate
        }
        return resolved
    }

    func readLink(_ path: String) throws(Failure) -> String {
        var bytes = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = bytes.withUnsafeMutableBytes { buf -> Int in
            guard let base = buf.baseAddress?.assumingMemoryBound(to: CChar.self) else { return -1 }
            return readlink(path, base, buf.count)
        }
        guard n >= 0 else { throw .system(path, String(cString: strerror(errno))) }
        return String(decoding: bytes[0..<n], as: UTF8.self)
    }
}
