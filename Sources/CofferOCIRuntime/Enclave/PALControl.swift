#if canImport(Glibc)
import Glibc
#endif
import CCofferOCIRuntime

/// coffer-runtime's side of the PAL host's control socket (verbs in docs/oci-runtime.md).
public struct PALControl: Sendable {
    public var socket: String

    public init(socket: String) { self.socket = socket }

    /// Sends `fields` (verb first) with `descriptors` attached and returns the reply line.
    public func request(_ fields: [String], descriptors: [Int32] = []) throws(OCIError) -> String {
        var payload: [CChar] = []
        for field in fields { payload += field.utf8CString }
        var reply = [CChar](repeating: 0, count: 4096)
        let length = payload.withUnsafeBufferPointer { bytes in
            descriptors.withUnsafeBufferPointer { fds in
                reply.withUnsafeMutableBufferPointer { out in
                    // Sound: each buffer is valid for its stated length during the call.
                    coffer_oci_request(socket, bytes.baseAddress, bytes.count, fds.baseAddress, Int32(fds.count),
                                       out.baseAddress, out.count)
                }
            }
        }
        guard length >= 0 else {
            throw .enclaveRuntime("cannot reach the PAL host of this enclave container (\(socket)): \(FileSystem.errorText(Int32(-length)))")
        }
        let line = String(decoding: reply.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let trimmed = line.split(separator: "\n").first.map(String.init) ?? ""
        if trimmed.hasPrefix("error: ") { throw .enclaveRuntime(String(trimmed.dropFirst(7))) }
        guard !trimmed.isEmpty else { throw .enclaveRuntime("the PAL host closed the connection without a reply") }
        return trimmed
    }

    /// `exec`: runs `argv` with `env` through pal_create_process + pal_exec on this process's
    /// standard streams; returns the program's exit value.
    public func exec(argv: [String], env: [String]) throws(OCIError) -> Int32 {
        let reply = try request(["exec", String(argv.count)] + argv + env, descriptors: [0, 1, 2])
        guard reply.hasPrefix("exit "), let value = Int32(reply.dropFirst(5)) else {
            throw .enclaveRuntime("unexpected reply from the PAL host: \(reply)")
        }
        return value
    }
}
