import CofferSys
import CofferWire
import Glibc

/// The workload's root: the image's EROFS behind dm-verity, read-only, under a tmpfs overlay.
///
/// The launcher attaches `rootfs.erofs` and `rootfs.verity` as read-only virtio-blk disks with
/// serial numbers `coffer-data` and `coffer-hash`, and writes the verity parameters on the kernel
/// command line, which the launch measurement covers:
///
/// ```
/// coffer.verity=<root hash hex>,<salt hex>,<data blocks>
/// ```
/// Block sizes are 4096, the hash is SHA-256, and the hash tree starts after the one-block
/// superblock (hash start block 1), as `coffer build` writes them.
struct VerityRoot: Equatable {
    static let parameterName = "coffer.verity"
    static let dataSerial = "coffer-data"
    static let hashSerial = "coffer-hash"
    static let node = "/dev/coffer-root"
    static let newRoot = "/coffer/root"
    static let deviceName = "coffer-root"

    var rootHash: String
    var salt: String
    var dataBlocks: UInt64

    /// The parameters from a kernel command line, nil when it has none (a VM without an image).
    ///
    /// The values end up in the dm table verbatim, so they are checked here to be exactly what a
    /// verity table takes: a SHA-256 root hash (64 hex digits), a hex salt, a positive block count.
    static func parse(commandLine: KernelCommandLine) throws(SystemError) -> VerityRoot? {
        /// Exactly one: `KernelCommandLine` refuses a second, with which a verifier reading the
        /// measured command line could check one root hash while the agent mounted the other.
        guard let parameter = commandLine.parameter(parameterName) else { return nil }
        let value = parameter.value ?? ""
        let fields = value.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].count == 64, isHex(fields[0]), isHex(fields[1]), fields[1].count <= 512,
            let blocks = UInt64(fields[2]), blocks > 0, blocks < (1 << 40)
        else {
            throw SystemError("parse kernel command line", "\(parameterName)=\(value.prefix(600))", errno: EINVAL)
        }
        return VerityRoot(rootHash: String(fields[0]), salt: fields[1].isEmpty ? "-" : String(fields[1]), dataBlocks: blocks)
    }

    static func isHex(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The dm-verity table parameters (kernel Documentation/admin-guide/device-mapper/verity.rst):
    /// version, data dev, hash dev, data block size, hash block size, data blocks, hash start
    /// block, algorithm, root digest, salt.
    func tableParameters(data: String, hash: String) -> String {
        "1 \(data) \(hash) 4096 4096 \(dataBlocks) 1 sha256 \(rootHash) \(salt)"
    }

    /// Builds the verity device and mounts the image's EROFS read-only from it on /coffer/lower.
    func open() throws(SystemError) {
        let data = try disk(serial: Self.dataSerial), hash = try disk(serial: Self.hashSerial)
        /// The only path from the untrusted disk to the workload: every block read through this
        /// device is hashed up to `rootHash`, which came from the measured command line.
        let device = try DeviceMapper.createReadOnly(
            name: Self.deviceName, target: "verity", sectors: dataBlocks &* 8, parameters: tableParameters(data: data, hash: hash), node: Self.node)
        try Mount.mount(device, on: "/coffer/lower", type: "erofs", flags: UInt(MS_RDONLY | MS_NODEV))
    }

    /// A tmpfs overlay on the read-only image, entered as the new root: every write of the guest
    /// lands in its upper layer, never in the measured image.
    static func mountOverlayAndEnter() throws(SystemError) {
        try Mount.mount("tmpfs", on: "/coffer/rw", type: "tmpfs", flags: UInt(MS_NODEV), data: "mode=0755")
        try Mount.makeDirectory("/coffer/rw/upper")
        try Mount.makeDirectory("/coffer/rw/work")
        try Mount.mount(
            "overlay", on: newRoot, type: "overlay", flags: UInt(MS_NODEV),
            data: "lowerdir=/coffer/lower,upperdir=/coffer/rw/upper,workdir=/coffer/rw/work")
        try RootSwitch.enter(newRoot)
    }

    /// In the new root: /tmp, terminals for `-t` processes (gid 5 is `tty` in Debian-style
    /// images) and POSIX shared memory. Their mount points are made on the overlay when the image
    /// has none.
    static func mountWorkloadFileSystems() throws(SystemError) {
        try Mount.mount("tmpfs", on: "/tmp", type: "tmpfs", flags: UInt(MS_NOSUID | MS_NODEV), data: "mode=1777")
        try Mount.makeDirectory("/dev/pts")
        try Mount.mount("devpts", on: "/dev/pts", type: "devpts", flags: UInt(MS_NOSUID | MS_NOEXEC), data: "mode=0620,gid=5,ptmxmode=0666")
        try Mount.makeDirectory("/dev/shm")
        try Mount.mount("tmpfs", on: "/dev/shm", type: "tmpfs", flags: UInt(MS_NOSUID | MS_NODEV), data: "mode=1777")
    }

    /// Whether dm-verity has refused any block since the device was created: its status is "C"
    /// once a block failed to verify, "V" while all verified. A workload that read a tampered
    /// file saw EIO; this is how the agent tells the host the image was tampered with.
    /// Fails closed: a status that cannot be read is an error, not a clean bill.
    static func corruptionDetected() throws(SystemError) -> Bool {
        try DeviceMapper.status(name: deviceName).hasPrefix("C")
    }

    /// The /dev node of the virtio disk whose serial is `serial` (a swapped or forged disk fails
    /// verification against the root hash, not this lookup).
    private func disk(serial: String) throws(SystemError) -> String { try VirtioDisks().node(serial: serial) }
}
