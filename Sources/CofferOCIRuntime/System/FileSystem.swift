#if canImport(Glibc)
import Glibc
#endif

/// The few file operations coffer-runtime needs, on POSIX calls (no Foundation: start-up cost).
enum FileSystem {
    static func errorText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    static func read(_ path: String) throws(OCIError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot read \(path): \(errorText())") }
        defer { close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // Sound: `chunk` has chunk.count writable bytes for the duration of the call.
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .system("cannot read \(path): \(errorText())") }
            if n == 0 { return contents }
            contents += chunk[0..<n]
        }
    }

    /// Writes through a temporary name and renames, so a reader never sees half a file.
    static func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws(OCIError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .system("cannot write \(path): \(errorText())") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            // Sound: the range handed to write lies within `bytes`.
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                unlink(temporary)
                throw .system("cannot write \(path): \(errorText())")
            }
            written += n
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw .system("cannot write \(path): \(errorText())") }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }

    /// Creates `path` and missing parents.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(OCIError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw .system("cannot create \(prefix): \(errorText())")
            }
        }
    }

    /// An empty file to mount over (bind mounts of files need a file to land on).
    static func touch(_ path: String) throws(OCIError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("cannot create \(path): \(errorText())") }
        close(fd)
    }

    /// The canonical absolute path (symbolic links resolved), nil if it does not exist.
    static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `path` made absolute against the working directory, without resolving links (as Go's
    /// filepath.Abs, which runc applies to --root and --bundle).
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return normalized(path) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return normalized(path) }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return normalized(cwd + "/" + path)
    }

    /// Lexically cleaned: no empty, "." or ".." components, no trailing slash.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for component in path.split(separator: "/") where component != "." {
            if component == ".." { _ = parts.popLast() } else { parts.append(component) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Removes a directory tree, not following symbolic links (what a container wrote into its
    /// control directory must not make the host delete anything outside it).
    static func removeTree(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        if status.st_mode & S_IFMT == S_IFDIR {
            if let directory = opendir(path) {
                var names: [String] = []
                while let entry = readdir(directory) {
                    // Sound: d_name is a NUL-terminated array inside the dirent readdir returned.
                    let name = withUnsafePointer(to: entry.pointee.d_name) {
                        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                    }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(directory)
                for name in names { removeTree(path + "/" + name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
