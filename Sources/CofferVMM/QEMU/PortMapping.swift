/// A published port, `-p [IP:]HOST:GUEST[/tcp|/udp]`: QEMU's user networking forwards the host's
/// IP:HOST to the guest's GUEST. The host address defaults to 127.0.0.1, so nothing is exposed
/// beyond this machine unless asked for.
public struct PortMapping: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Transport: String, Sendable, Codable { case tcp, udp }

    public var hostAddress: String
    public var hostPort: UInt16
    public var guestPort: UInt16
    public var transport: Transport

    public init(hostAddress: String = "127.0.0.1", hostPort: UInt16, guestPort: UInt16, transport: Transport = .tcp) {
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.guestPort = guestPort
        self.transport = transport
    }

    /// Parses the `-p` syntax; nil when it is not that.
    public init?(_ text: String) {
        var spec = Substring(text)
        transport = .tcp
        if let slash = spec.lastIndex(of: "/") {
            guard let parsed = Transport(rawValue: String(spec[spec.index(after: slash)...])) else { return nil }
            transport = parsed
            spec = spec[..<slash]
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3,
            let host = UInt16(parts[parts.count - 2]), let guest = UInt16(parts[parts.count - 1]), host > 0, guest > 0
        else { return nil }
        hostAddress = parts.count == 3 ? String(parts[0]) : "127.0.0.1"
        guard Self.isIPv4(hostAddress) else { return nil }
        hostPort = host
        guestPort = guest
    }

    static func isIPv4(_ text: String) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil && !$0.isEmpty }
    }

    /// QEMU's `hostfwd=` value (the guest address is the user network's 10.0.2.15).
    var hostForward: String { "\(transport.rawValue):\(hostAddress):\(hostPort)-:\(guestPort)" }

    public var description: String { "\(hostAddress):\(hostPort)->\(guestPort)/\(transport.rawValue)" }
}
