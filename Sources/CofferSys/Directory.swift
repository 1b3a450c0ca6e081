import Glibc

/// The names in a directory, without "." and "..", sorted; nil when it does not exist.
public func directoryEntries(_ path: String) throws(SystemError) -> [String]? {
    guard let dir = opendir(path) else {
        if Glibc.errno == ENOENT { return nil }
        throw SystemError("opendir", path)
    }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        // Sound: d_name is a NUL-terminated array inside the dirent readdir returned.
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != ".", name != ".." { names.append(name) }
    }
    return names.sorted()
}
