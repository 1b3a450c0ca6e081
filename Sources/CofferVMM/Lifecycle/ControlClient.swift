import CofferCore
import CofferWire
import Foundation

/// A client's connection to a VM's monitor (its control socket): `run`'s attachment, `exec`,
/// `stop`, `kill`. Sends are serialized, so a signal handler's queue may send beside the main loop.
public final class ControlClient: @unchecked Sendable {
    public let fd: Int32
    private var decoder = FrameDecoder()
    private let sending = NSLock()

    public init(directory: VMDirectory) throws(VMMError) {
        fd = try UnixSocket.connect(to: directory.controlSocket)
    }

    deinit { close(fd) }

    public func send(_ message: some WireMessage) throws {
        try sending.withLock { try UnixSocket.send(try message.frame.encoded(), to: fd) }
    }

    public func send(_ frame: Frame) throws {
        try sending.withLock { try UnixSocket.send(try frame.encoded(), to: fd) }
    }

    /// The next complete frame already received, without reading.
    public func buffered() throws -> Frame? { try decoder.next() }

    /// Reads once (call when the socket is readable). Throws `VMMError.protocolError` at end of file.
    public func read() throws {
        guard let bytes = try UnixSocket.receive(from: fd) else {
            throw VMMError.protocolError("the VM's monitor closed the connection")
        }
        decoder.append(bytes)
    }

    /// Waits until a frame arrives; `VMMError.protocolError` at end of file.
    public func next() throws -> Frame {
        while true {
            if let frame = try decoder.next() { return frame }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, -1)
            try read()
        }
    }
}
