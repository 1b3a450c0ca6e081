#if canImport(Glibc)
import Glibc
import CofferJSON

#endif

/// Reports coffer-runtime's own errors where runc reports its: standard error, and the --log
/// file in --log-format (containerd's shims read the last error from that file).
struct RuntimeLog {
    var line: RuntimeCommandLine

    func error(_ message: String) {
        let text = Array("coffer-runtime: \(message)\n".utf8)
        // Sound: the buffer holds text.count bytes for the duration of the call.
        _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        guard let path = line.globalValues["log"], !path.isEmpty else { return }
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var broken = tm()
        gmtime_r(&time.tv_sec, &broken)
        var buffer = [CChar](repeating: 0, count: 64)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &broken)
        let stamp = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let entry: String
        if line.globalValues["log-format"] == "json" {
            entry = JSONValue.object([("level", .string("error")), ("msg", .string(message)), ("time", .string(stamp))]).serialized
        } else {
            entry = "time=\"\(stamp)\" level=error msg=\(JSONValue.string(message).serialized)"
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let bytes = Array((entry + "\n").utf8)
        // Sound: the buffer holds bytes.count bytes for the duration of the call.
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
