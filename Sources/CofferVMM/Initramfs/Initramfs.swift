import CofferCore
import Foundation

/// The initramfs Coffer generates for every VM: the agent as `/init`, the kernel modules it loads,
/// and the few nodes a static Swift PID 1 needs before it can mount anything. Nothing else, so that
/// its digest (part of the launch measurement) covers all of the guest's early userspace.
///
/// ```
/// init                          the static coffer-agent, 0755
/// dev/console                   c 5 1: the kernel opens it as init's stdin/stdout/stderr
/// proc/self/exe -> /init        the Swift runtime reads /proc/self/exe before main; the agent
///                               mounts the real /proc over it first thing
/// sys/                          mount point
/// etc/coffer/modules            the module paths below, one per line, in load order
/// etc/coffer/modules.net        the same for the network device (loaded for published ports)
/// lib/modules/<release>/kernel/...ko
/// ```
public struct Initramfs: Sendable {
    /// The modules the agent needs: the virtio transports (virtio-mmio for `-M microvm`,
    /// virtio-pci for the q35 machine of TDX and SEV-SNP launches), disks, the agent channel, the
    /// verity root with its overlay, and encrypted volumes (decision 0023). Dependencies are added
    /// automatically. Both transports are in every initramfs, so that one agent has one initramfs
    /// and one reference measurement whatever the machine (decision 0035).
    ///
    /// The volume modules are in every initramfs and always loaded: the agent learns whether a
    /// launch has volumes only from its init-data, after the root switch has left the initramfs
    /// (and its modules) behind, and one archive per agent keeps one reference measurement.
    /// `xts` and `ecb` are listed because dm-crypt asks the crypto API for `xts(aes)`, and xts
    /// for `ecb(aes)`: templates the kernel would load on demand through modprobe, which the
    /// guest does not have (they are not symbol dependencies, so `.modinfo` does not name them). AES, HMAC and SHA-256 are
    /// built into Debian's cloud kernel (`isBuiltin`); dm-integrity brings dm-bufio and async_xor.
    public static let defaultModules = ["virtio_mmio", "virtio_pci", "virtio_blk", "virtio_console", "dm_verity", "erofs", "overlay"] + volumeModules

    /// What an encrypted volume's tables need (decision 0023).
    public static let volumeModules = ["dm_integrity", "ecb", "xts", "dm_crypt"]

    /// The network device's modules, loaded only for a VM with published ports.
    public static let networkModules = ["virtio_net"]

    /// Where the agent reads the module lists (see CofferAgent's BootSequence).
    public static let moduleListPath = "etc/coffer/modules"
    public static let networkModuleListPath = "etc/coffer/modules.net"

    /// The layout below. Bump it whenever the archive a given agent and module set produce changes
    /// (another node, another path): cached archives (`InitramfsCache`) are keyed by it.
    public static let formatVersion: UInt32 = 2

    /// Where a module of kernel `release` lies inside the archive.
    public static func path(of module: ModuleTree.Module, release: String) -> String {
        "lib/modules/\(release)/\(module.relativePath)"
    }

    public let bytes: [UInt8]
    /// SHA-256 of `bytes`.
    public let digest: [UInt8]
    /// The modules the agent always loads, in load order.
    public let modules: [String]
    /// The network device's modules, loaded only for a VM with published ports.
    public let networkModules: [String]

    public var digestHex: String { "sha256:" + Hex.encode(digest) }

    /// Builds the initramfs from the agent binary and the kernel's module tree.
    public init(agent: String, kernel: GuestKernel, modules: [String] = Initramfs.defaultModules) throws {
        guard let agentData = FileManager.default.contents(atPath: agent) else {
            throw VMMError.file(path: agent, reason: "the guest agent binary cannot be read (build it with `make agent`)")
        }
        let tree = try ModuleTree(root: kernel.modules)
        let always = try tree.loadOrder(for: modules)
        let network = try tree.loadOrder(for: Initramfs.networkModules).filter { module in !always.contains { $0.name == module.name } }
        try self.init(init: [UInt8](agentData), release: kernel.release, modules: always, networkModules: network)
    }

    /// Builds the initramfs from an `/init` program and modules already in load order; the
    /// network modules go to a list of their own.
    public init(init program: [UInt8], release: String, modules: [ModuleTree.Module], networkModules: [ModuleTree.Module] = []) throws {
        var archive = CPIOArchive()
        try archive.add("init", permissions: 0o755, .file(program))
        try archive.add("dev/console", permissions: 0o600, .characterDevice(major: 5, minor: 1))
        try archive.add("proc/self/exe", permissions: 0o777, .symlink(target: "/init"))
        try archive.add("sys", permissions: 0o755, .directory)
        for (listPath, group) in [(Initramfs.moduleListPath, modules), (Initramfs.networkModuleListPath, networkModules)] {
            var list = ""
            for module in group {
                let path = Initramfs.path(of: module, release: release)
                try archive.add(path, permissions: 0o644, .file(module.bytes))
                list += "/\(path)\n"
            }
            if !group.isEmpty { try archive.add(listPath, permissions: 0o644, .file(Array(list.utf8))) }
        }
        bytes = archive.encoded()
        digest = SHA256Digest.hash(bytes)
        self.modules = modules.map(\.name)
        self.networkModules = networkModules.map(\.name)
    }

    public func write(to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw VMMError.file(path: path, reason: "cannot write the initramfs: \(error.localizedDescription)")
        }
    }
}
