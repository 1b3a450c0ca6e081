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

    /// After the root switch: loopback, then, when `requested`, eth0 (waited for up to 5 s) and
    /// the resolver file.
    static func configure(requested: Bool) throws(SystemError) {
        try Network.up("lo")
        guard requested else { return }
        var waited = 0
        while access("/sys/class/net/eth0", F_OK) != 0 {
            guard waited < 5_000 else { throw SystemError("find the network interface", "eth0", errno: ENODEV) }
            sleep(milliseconds: 5)
            waited += 5
        }
        try Network.configure("eth0", address: address, prefixLength: 24, gateway: gateway)
        if let skipped = try writeResolver(root: "/") { Console().log("no /etc/resolv.conf: \(skipped)") }
    }

    /// Writes `etc/resolv.conf` under `root` as a regular file of its own; returns why it did
    /// without one, or nil when written.
    ///
    /// Every write lands on the root's tmpfs overlay (the upper layer takes it; the measured
    /// image underneath is untouched). An image built from binaries has no /etc: it is made. No
    /// link is followed: an image may ship /etc/resolv.conf (or /etc) as a symlink to anywhere
    /// — systemd's stub file under /run, or a file the workload reads as configuration — and
    /// writing through it would put the resolver line there. A link at resolv.conf is replaced
    /// by a file on the overlay; an /etc that is a link or not a directory, or a resolv.conf that
    /// is a directory, FIFO or device, is left alone and the guest does without the file.
    static func writeResolver(root: String) throws(SystemError) -> String? {
        let top = try FileDescriptor.open(root, O_RDONLY | O_DIRECTORY)
        defer { top.close() }
        if mkdirat(top.rawValue, "etc", 0o755) != 0, errno != EEXIST { throw SystemError("mkdir", "\(root)etc") }
        let etc: FileDescriptor
        do {
            etc = try top.open("etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        } catch where error.errno == ELOOP || error.errno == ENOTDIR {
            return "/etc is a symbolic link or not a directory in this image"
        }
        defer { etc.close() }
        /// O_NONBLOCK: a FIFO with no reader fails (ENXIO) instead of blocking PID 1 forever.
        let flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK
        let file: FileDescriptor
        do {
            file = try etc.open("resolv.conf", flags, mode: 0o644)
        } catch where error.errno == ELOOP {
            guard unlinkat(etc.rawValue, "resolv.conf", 0) == 0 else { throw SystemError("unlink", "/etc/resolv.conf (a symbolic link)") }
            file = try etc.open("resolv.conf", flags | O_EXCL, mode: 0o644)
        } catch where [EISDIR, ENXIO, EACCES, EPERM].contains(error.errno) {
            return "/etc/resolv.conf in this image cannot be written (\(error))"
        }
        defer { file.close() }
        var info = stat()
        guard fstat(file.rawValue, &info) == 0 else { throw SystemError("fstat", "/etc/resolv.conf") }
        guard info.st_mode & S_IFMT == S_IFREG else { return "/etc/resolv.conf in this image is not a regular file" }
        guard ftruncate(file.rawValue, 0) == 0 else { throw SystemError("truncate", "/etc/resolv.conf") }
        try file.writeAll(Array("nameserver \(nameserver)\n".utf8))
        return nil
    }
}
