import CCofferSys
import Glibc

/// The guest's IPv4 configuration through ioctls: loopback up, and the one virtio-net interface
/// QEMU's user networking serves.
public enum Network {
    public static func up(_ interface: String) throws(SystemError) {
        guard coffer_interface_up(interface) == 0 else { throw SystemError("SIOCSIFFLAGS", interface) }
    }

    /// Sets `address`/`prefixLength` on `interface`, brings it up, and routes everything else via
    /// `gateway`. Addresses are dotted quads.
    public static func configure(_ interface: String, address: String, prefixLength: Int, gateway: String) throws(SystemError) {
        guard let host = parse(address), let router = parse(gateway), (1...32).contains(prefixLength) else {
            throw SystemError("configure", "\(interface) with \(address)/\(prefixLength) via \(gateway)", errno: EINVAL)
        }
        let mask = prefixLength == 32 ? UInt32.max : ~(UInt32.max >> UInt32(prefixLength))
        guard coffer_interface_address(interface, host, mask) == 0 else { throw SystemError("SIOCSIFADDR", interface) }
        try up(interface)
        guard coffer_default_route(router) == 0 else { throw SystemError("SIOCADDRT", "default via \(gateway)") }
    }

    /// A dotted quad as a host-order integer.
    static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }
}
