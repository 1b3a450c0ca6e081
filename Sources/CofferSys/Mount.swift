import Glibc

/// mount(2) and the directories it needs.
public enum Mount {
    /// Mounts `source` of file-system `type` on `target`, creating `target` first.
    public static func mount(
        _ source: String, on target: String, type: String, flags: UInt = 0, data: String? = nil
    ) throws(SystemError) {
        try makeDirectory(target)
        let result: Int32 =
            if let data { Glibc.mount(source, target, type, flags, data) } else { Glibc.mount(source, target, type, flags, nil) }
        guard result == 0 else { throw SystemError("mount \(type)", "on \(target)") }
    }

    /// mkdir -p, for absolute paths.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0, Glibc.errno != EEXIST { throw SystemError("mkdir", prefix) }
        }
    }
}
