import Foundation

/// Unix stream sockets for the launcher's channels (the agent socket QEMU connects to, a VM's
/// control socket), close-on-exec and readable by the launcher's user only.
enum UnixSocket {
    /// A listening socket at `path` (a stale file there is replaced), mode 0600.
    static func listen(at path: String, backlog: Int32) throws(VMMError) -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .file(path: path, reason: "socket: \(String(cString: strerror(errno)))") }
        do throws(VMMError) {
            var address = try Self.address(path)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            // Only the launcher's user may connect: the channel carries the workload's stdio.
            guard bound == 0, chmod(path, 0o600) == 0, Glibc.listen(fd, backlog) == 0 else {
                throw VMMError.file(path: path, reason: "cannot listen: \(String(cString: strerror(errno)))")
            }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// A blocking connection to the socket at `path`.
    static func connect(to path: String) throws(VMMError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .file(path: path, reason: "socket: \(String(cString: strerror(errno)))") }
        do throws(VMMError) {
            var address = try Self.address(path)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0 else { throw VMMError.file(path: path, reason: "cannot connect: \(String(cString: strerror(errno)))") }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    private static func address(_ path: String) throws(VMMError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .invalidConfiguration("the socket path \(path) is longer than a Unix socket allows (107 bytes)")
        }
        // Sound: copies fewer bytes than sun_path holds, leaving the zeroed NUL terminator.
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return address
    }

    /// Writes all of `bytes` to a blocking or non-blocking descriptor, waiting while it is full.
    static func send(_ bytes: [UInt8], to fd: Int32) throws(VMMError) {
        var sent = 0
        while sent < bytes.count {
            // Sound: the range lies inside `bytes`, which outlives the call.
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
            if count > 0 {
                sent += count
            } else if count < 0, errno == EAGAIN || errno == EINTR {
                var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptor, 1, 100)
            } else {
                throw .protocolError("writing a socket failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Reads what is available: bytes, empty when nothing yet, nil at end of file.
    static func receive(from fd: Int32) throws(VMMError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 { return Array(buffer[0..<count]) }
        if count == 0 { return nil }
        if errno == EAGAIN || errno == EINTR { return [] }
        if errno == ECONNRESET { return nil }
        throw .protocolError("reading a socket failed: \(String(cString: strerror(errno)))")
    }
}
