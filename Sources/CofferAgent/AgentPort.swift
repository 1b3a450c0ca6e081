import CofferSys
import Glibc

/// The agent's end of the host-guest channel: the virtio-serial port the launcher named.
enum AgentPort {
    /// How long to wait for the port to appear: the port's name arrives from the host in a control
    /// message after virtio_console binds, so it shows up shortly after the module loads.
    static let waitMilliseconds = 10_000

    /// Finds `/sys/class/virtio-ports/<port>/name == name` and opens `/dev/<port>`.
    ///
    /// The name is chosen by the host, so it proves nothing about who is on the other end; it only
    /// tells the agent which of the VM's ports is the channel (the rest of the protocol authenticates).
    static func open(named name: String) throws(SystemError) -> FileDescriptor {
        var waited = 0
        while true {
            for port in try directoryEntries("/sys/class/virtio-ports") ?? [] {
                let portName = try readFile("/sys/class/virtio-ports/\(port)/name") ?? []
                if String(decoding: portName, as: UTF8.self).split(separator: "\n").first == Substring(name) {
                    return try FileDescriptor.open("/dev/\(port)", O_RDWR | O_NOCTTY)
                }
            }
            guard waited < waitMilliseconds else {
                throw SystemError("find virtio-serial port", "named \(name) under /sys/class/virtio-ports", errno: ENOENT)
            }
            sleep(milliseconds: 10)
            waited += 10
        }
    }
}
