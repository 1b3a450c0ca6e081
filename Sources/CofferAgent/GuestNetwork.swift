import CofferSys
import CofferWire
import Glibc

/// The guest's network: loopback always; with `coffer.net=user` on the measured command line,
/// the virtio-net interface QEMU's user networking serves (published ports), configured with that
/// network's fixed addresses (guest 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3).
enum GuestNetwork {
    static let parameterName = "coffer.net"
    static let address = "10.0.2.15", gateway = "10.0.2.2", nameserver = "10.0.2.3"

    /// Whether the measured line asks for the network; any value but `user` is refused rather
    /// than read as "no network", so the line means one thing.
    static func requested(commandLine: KernelCommandLine) throws(SystemError) -> Bool {
        guard let parameter = commandLine.parameter(parameterName) else { return false }
        guard parameter.value == "user" else {
            throw SystemError("parse kernel command line", "\(parameterName)=\(parameter.value ?? "") (only coffer.net=user is known)", errno: EINVAL)
        }
        return true
    }

    /// Loopback up; before the root switch, the network modules when asked for (they are in the
    /// initramfs).
    static func loadModules(commandLine: KernelCommandLine) throws(SystemError) -> Int {
        try requested(commandLine: commandLine) ? try BootSequence.loadModules(list: BootSequence.networkModuleList) : 0
    }

    /// After the root switch: loopback, then eth0 (waited for up to 5 s) and /etc/resolv.conf.
    static func configure(commandLine: KernelCommandLine) throws(SystemError) {
        try Network.up("lo")
        guard try requested(commandLine: commandLine) else { return }
        var waited = 0
        while access("/sys/class/net/eth0", F_OK) != 0 {
            guard waited < 5_000 else { throw SystemError("find the network interface", "eth0", errno: ENODEV) }
            sleep(milliseconds: 5)
            waited += 5
        }
        try Network.configure("eth0", address: address, prefixLength: 24, gateway: gateway)
        /// An image built from binaries has no /etc: make it on the root's tmpfs overlay (the
        /// upper layer takes the write; the measured image underneath is untouched).
        if access("/etc", F_OK) != 0, mkdir("/etc", 0o755) != 0, errno != EEXIST {
            throw SystemError("mkdir", "/etc")
        }
        let resolver = try FileDescriptor.open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { resolver.close() }
        try resolver.writeAll(Array("nameserver \(nameserver)\n".utf8))
    }
}
