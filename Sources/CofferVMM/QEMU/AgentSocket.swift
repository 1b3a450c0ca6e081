import Foundation

/// The launcher's end of the agent channel: a Unix stream socket QEMU connects the guest's
/// virtio-serial port to. Non-blocking; the supervisor polls it against its deadline.
final class AgentSocket {
    let path: String
    private var listener: Int32 = -1
    private(set) var connection: Int32 = -1

    /// Creates the socket file at `path` (replacing a stale one) and listens.
    init(path: String) throws {
        self.path = path
        unlink(path)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard listener >= 0 else { throw VMMError.file(path: path, reason: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close()
            throw VMMError.invalidConfiguration("the agent socket path \(path) is too long for a Unix socket")
        }
        // Sound: copies fewer bytes than sun_path holds, leaving the zeroed NUL terminator.
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // The socket is the guest's only channel: only the launcher's user may connect.
        guard bound == 0, chmod(path, 0o600) == 0, listen(listener, 1) == 0 else {
            let reason = String(cString: strerror(errno))
            close()
            throw VMMError.file(path: path, reason: "cannot listen on the agent socket: \(reason)")
        }
    }

    deinit { close() }

    func close() {
        if connection >= 0 { Glibc.close(connection) }
        if listener >= 0 {
            Glibc.close(listener)
            unlink(path)
        }
        connection = -1
        listener = -1
    }

    /// Writes all of `bytes` to the connected guest, waiting while the socket is full.
    func send(_ bytes: [UInt8]) throws {
        guard connection >= 0 else { throw VMMError.protocolError("QEMU has not connected to the agent socket") }
        var sent = 0
        while sent < bytes.count {
            // Sound: the range lies inside `bytes`, which outlives the call.
            let count = bytes.withUnsafeBytes { write(connection, $0.baseAddress! + sent, $0.count - sent) }
            if count > 0 {
                sent += count
            } else if count < 0, errno == EAGAIN || errno == EINTR {
                var descriptor = pollfd(fd: connection, events: Int16(POLLOUT), revents: 0)
                _ = Glibc.poll(&descriptor, 1, 100)
            } else {
                throw VMMError.protocolError("writing the agent socket failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Waits up to `milliseconds` for QEMU to connect or for bytes from the guest. Returns the
    /// bytes received (empty when none yet); nil once the peer has closed the connection.
    func poll(milliseconds: Int32) throws -> [UInt8]? {
        let watched = connection >= 0 ? connection : listener
        var descriptor = pollfd(fd: watched, events: Int16(POLLIN), revents: 0)
        let ready = Glibc.poll(&descriptor, 1, milliseconds)
        guard ready > 0 else { return [] }
        if connection < 0 {
            let accepted = accept(listener, nil, nil)
            if accepted >= 0 {
                _ = fcntl(accepted, F_SETFD, FD_CLOEXEC)
                _ = fcntl(accepted, F_SETFL, O_NONBLOCK)
                connection = accepted
            }
            return []
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
        if count > 0 { return Array(buffer[0..<count]) }
        if count == 0 { return nil }
        if errno == EAGAIN || errno == EINTR { return [] }
        throw VMMError.protocolError("reading the agent socket failed: \(String(cString: strerror(errno)))")
    }
}
