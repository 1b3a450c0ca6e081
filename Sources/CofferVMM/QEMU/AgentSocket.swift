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
        listener = try UnixSocket.listen(at: path, backlog: 1)
    }

    /// The descriptor to poll: the connection once QEMU connected, else the listener.
    var descriptor: Int32 { connection >= 0 ? connection : listener }

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
        try UnixSocket.send(bytes, to: connection)
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
        return try UnixSocket.receive(from: connection)
    }
}
