#if canImport(Glibc)
import Glibc
#endif

/// Removes a file or a directory tree without following symlinks (lstat, children before their
/// directory), so that removing a replaced member can never delete outside it.
/// Returns false (with errno set) on failure.
func removeTree(_ path: String) -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0 else { return errno == ENOENT }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        for name in directoryEntries(path) {
            guard removeTree(path + "/" + name) else { return false }
        }
        return rmdir(path) == 0
    }
    return unlink(path) == 0
}

/// The names in a directory, without "." and "..".
func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != ".", name != ".." { names.append(name) }
    }
    return names
}
