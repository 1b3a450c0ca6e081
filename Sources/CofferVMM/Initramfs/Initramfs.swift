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
/// lib/modules/<release>/kernel/...ko
/// ```
public struct Initramfs: Sendable {
    /// The modules the agent needs: the virtio-mmio transport of `-M microvm`, disks, the agent
    /// channel, and the verity root with its overlay. Dependencies are added automatically.
    public static let defaultModules = ["virtio_mmio", "virtio_blk", "virtio_console", "dm_verity", "erofs", "overlay"]

    /// Where the agent reads the module list (see CofferAgent's BootSequence).
    public static let moduleListPath = "etc/coffer/modules"

    /// The layout below. Bump it whenever the archive a given agent and module set produce changes
    /// (another node, another path): cached archives (`InitramfsCache`) are keyed by it.
    public static let formatVersion: UInt32 = 1

    /// Where a module of kernel `release` lies inside the archive.
    public static func path(of module: ModuleTree.Module, release: String) -> String {
        "lib/modules/\(release)/\(module.relativePath)"
    }

    public let bytes: [UInt8]
    /// SHA-256 of `bytes`.
    public let digest: [UInt8]
    /// The modules it carries, in load order.
    public let modules: [String]

    public var digestHex: String { "sha256:" + Hex.encode(digest) }

    /// Builds the initramfs from the agent binary and the kernel's module tree.
    public init(agent: String, kernel: GuestKernel, modules: [String] = Initramfs.defaultModules) throws {
        guard let agentData = FileManager.default.contents(atPath: agent) else {
            throw VMMError.file(path: agent, reason: "the guest agent binary cannot be read (build it with `make agent`)")
        }
        let tree = try ModuleTree(root: kernel.modules)
        try self.init(init: [UInt8](agentData), release: kernel.release, modules: tree.loadOrder(for: modules))
    }

    /// Builds the initramfs from an `/init` program and modules already in load order.
    public init(init program: [UInt8], release: String, modules: [ModuleTree.Module]) throws {
        var archive = CPIOArchive()
        try archive.add("init", permissions: 0o755, .file(program))
        try archive.add("dev/console", permissions: 0o600, .characterDevice(major: 5, minor: 1))
        try archive.add("proc/self/exe", permissions: 0o777, .symlink(target: "/init"))
        try archive.add("sys", permissions: 0o755, .directory)
        var list = ""
        for module in modules {
            let path = Initramfs.path(of: module, release: release)
            try archive.add(path, permissions: 0o644, .file(module.bytes))
            list += "/\(path)\n"
        }
        try archive.add(Initramfs.moduleListPath, permissions: 0o644, .file(Array(list.utf8)))
        bytes = archive.encoded()
        digest = SHA256Digest.hash(bytes)
        self.modules = modules.map(\.name)
    }

    public func write(to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw VMMError.file(path: path, reason: "cannot write the initramfs: \(error.localizedDescription)")
        }
    }
}
