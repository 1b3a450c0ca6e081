import Foundation

/// Coffer's cache of guest kernels under `$COFFER_HOME/kernel`, filled from Debian packages with
/// `apt-get download` and `dpkg -x`: nothing is installed on the host and /boot is not touched.
public struct KernelCache: Sendable {
    /// Debian's kernel for cloud VMs: small, virtio and device-mapper as modules, no firmware needed.
    public static let defaultPackage = "linux-image-cloud-amd64"

    public var home: String
    public var root: String { "\(home)/kernel" }

    /// A relative `home` is taken from the current directory, so the paths handed to QEMU hold
    /// wherever it runs.
    public init(home: String) {
        self.home = home.hasPrefix("/") ? home : FileManager.default.currentDirectoryPath + "/" + home
    }

    /// What `setup` did.
    public struct SetupResult: Sendable {
        public var kernel: GuestKernel
        /// False when the kernel was already in the cache.
        public var downloaded: Bool
    }

    /// Every complete kernel in the cache, by release.
    public func installed() -> [GuestKernel] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") && $0 != "default" }.compactMap { GuestKernel.load(from: "\(root)/\($0)") }
    }

    public func kernel(release: String) -> GuestKernel? { GuestKernel.load(from: "\(root)/\(release)") }

    /// The kernel the last `setup` settled on (`kernel/default`, a symlink to its release), without
    /// asking APT: VMs boot offline once setup has run.
    public func defaultKernel() -> GuestKernel? {
        guard let release = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/default"),
              !release.contains("/")
        else { return nil }
        return kernel(release: release)
    }

    /// Points `kernel/default` at `release`, replacing the link atomically.
    public func makeDefault(_ release: String) throws {
        let temporary = "\(root)/.default-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createSymbolicLink(atPath: temporary, withDestinationPath: release)
        guard rename(temporary, "\(root)/default") == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw VMMError.file(path: "\(root)/default", reason: "cannot point it at \(release): \(reason)")
        }
    }

    /// Makes sure the kernel `package` names (a metapackage such as linux-image-cloud-amd64 or a
    /// versioned linux-image-<release> package) is in the cache, downloading it when it is not.
    /// Idempotent: a cached release is not downloaded again.
    public func setup(package: String = KernelCache.defaultPackage, log: (String) -> Void = { _ in }) throws -> SetupResult {
        let resolved = try KernelPackage.resolve(package)
        if let cached = kernel(release: resolved.release) {
            if defaultKernel() != cached { try makeDefault(cached.release) }
            return SetupResult(kernel: cached, downloaded: false)
        }
        log("downloading \(resolved.name) \(resolved.version)")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let staging = "\(root)/.staging-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: staging) }

        let deb = try resolved.download(into: staging)
        let unpacked = "\(staging)/unpacked"
        try HostTool.run("dpkg", ["-x", deb, unpacked], package: "dpkg")
        let entry = "\(staging)/entry"
        try layOut(unpacked: unpacked, release: resolved.release, into: entry)
        try Data("\(resolved.name) \(resolved.version)\n".utf8).write(to: URL(fileURLWithPath: "\(entry)/\(GuestKernel.completionMarker)"))

        let final = "\(root)/\(resolved.release)"
        do {
            try FileManager.default.moveItem(atPath: entry, toPath: final)
        } catch {
            // Another setup finished first: its entry is complete, keep it.
            if let cached = kernel(release: resolved.release) {
                try makeDefault(cached.release)
                return SetupResult(kernel: cached, downloaded: false)
            }
            throw VMMError.file(path: final, reason: "cannot store the unpacked kernel: \(error)")
        }
        guard let kernel = kernel(release: resolved.release) else {
            throw VMMError.kernelPackage("the unpacked kernel in \(final) is incomplete")
        }
        try makeDefault(kernel.release)
        log("unpacked \(kernel.release) into \(kernel.directory)")
        return SetupResult(kernel: kernel, downloaded: true)
    }

    /// Moves the bzImage, config and module tree of `release` out of a `dpkg -x` tree.
    private func layOut(unpacked: String, release: String, into entry: String) throws {
        let files = FileManager.default
        let vmlinuz = "\(unpacked)/boot/vmlinuz-\(release)"
        let modules = "\(unpacked)/lib/modules/\(release)"
        guard files.fileExists(atPath: vmlinuz) else {
            throw VMMError.kernelPackage("the package has no boot/vmlinuz-\(release); is it a kernel image package?")
        }
        guard files.fileExists(atPath: "\(modules)/modules.builtin") else {
            throw VMMError.kernelPackage("the package has no lib/modules/\(release)/modules.builtin")
        }
        try files.createDirectory(atPath: entry, withIntermediateDirectories: false)
        try files.moveItem(atPath: vmlinuz, toPath: "\(entry)/vmlinuz")
        try files.moveItem(atPath: modules, toPath: "\(entry)/modules")
        let config = "\(unpacked)/boot/config-\(release)"
        if files.fileExists(atPath: config) { try files.moveItem(atPath: config, toPath: "\(entry)/config") }
    }
}
