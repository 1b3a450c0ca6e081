import CofferCore
import Foundation

/// Generated initramfs archives kept under `$COFFER_HOME/initramfs/`, so that a VM launch reads
/// and hashes its inputs but does not rebuild and rewrite the archive each time:
///
/// ```
/// initramfs/<key>.cpio     the archive Initramfs builds from these inputs
/// initramfs/<key>.sha256   the archive's SHA-256, lower-case hex
/// ```
///
/// `key` is the SHA-256 of
/// ```
/// "coffer-initramfs-cache\0" | formatVersion BE32 | SHA-256(agent) | len BE32 | kernel release
///   | module count BE32 | for each module in load order: len BE32 | path | SHA-256(module)
/// ```
/// (every field fixed-size or length-prefixed, so different inputs never encode alike). Both files
/// are written to a temporary name and renamed into place, so a reader sees a whole file or none.
///
/// The cache is bounded: a reused archive's modification time is renewed, and after building a
/// new one the cache keeps the `keep` most recently used archives and drops the rest once they
/// have been unused for `minimumIdle` seconds (a launcher that just got one has linked it into its
/// VM's directory by then; a VM boots its own link, so dropping a cache entry never affects one).
public struct InitramfsCache: Sendable {
    public var directory: String
    /// How many archives to keep (each about 10 MB).
    public var keep = 8
    /// Archives used more recently than this are never dropped.
    public var minimumIdle: Double = 600
    /// SHA-256 of the inputs and of a cached archive, about 20 MB per launch: CofferCore's portable
    /// code by default, or a faster implementation the caller links (the CLI passes swift-crypto's).
    public var sha256: @Sendable ([UInt8]) -> [UInt8]

    public init(home: String, sha256: @escaping @Sendable ([UInt8]) -> [UInt8] = { SHA256Digest.hash($0) }) {
        directory = KernelCache(home: home).home + "/initramfs"
        self.sha256 = sha256
    }

    /// The initramfs of `agent` with `modules` of `kernel`, as a file QEMU can boot.
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var measurement: InitramfsMeasurement
        /// True when a cached archive was reused, false when it was (re)built.
        public var reused: Bool
    }

    /// Returns the cached archive for these inputs after checking its digest, or builds and caches it.
    public func initramfs(agent: String, kernel: GuestKernel, modules: [String] = Initramfs.defaultModules) throws -> Entry {
        guard let agentData = FileManager.default.contents(atPath: agent) else {
            throw VMMError.file(path: agent, reason: "the guest agent binary cannot be read (build it with `make agent`)")
        }
        let program = [UInt8](agentData)
        // A custom kernel without a module tree has its drivers built in: no modules.
        let tree = kernel.modules.isEmpty ? nil : try ModuleTree(root: kernel.modules)
        let ordered = try tree?.loadOrder(for: modules) ?? []
        let network = try (tree?.loadOrder(for: Initramfs.networkModules) ?? []).filter { module in !ordered.contains { $0.name == module.name } }
        let agentComponent = InitramfsMeasurement.Component(path: "init", bytes: program, sha256: sha256)
        let moduleComponents = (ordered + network).map { module in
            InitramfsMeasurement.Component(path: Initramfs.path(of: module, release: kernel.release), bytes: module.bytes, sha256: sha256)
        }
        let key = Hex.encode(Self.key(agent: agentComponent, release: kernel.release, modules: moduleComponents))
        let archivePath = "\(directory)/\(key).cpio", digestPath = "\(directory)/\(key).sha256"
        func measurement(digest: [UInt8], size: Int) -> InitramfsMeasurement {
            InitramfsMeasurement(agent: agentComponent, modules: moduleComponents, digest: digest, size: size)
        }

        /// A cached archive is used only when its bytes hash to the digest recorded beside it: a
        /// truncated, corrupted or replaced file is rebuilt, never booted. (Whatever is booted,
        /// the measurement below is of the bytes just read, not of what the key promises.)
        if let cached = FileManager.default.contents(atPath: archivePath),
            let recorded = FileManager.default.contents(atPath: digestPath)
        {
            let digest = sha256([UInt8](cached))
            if String(decoding: recorded, as: UTF8.self) == Hex.encode(digest) {
                _ = utimes(archivePath, nil)  // most recently used (best effort)
                return Entry(path: archivePath, measurement: measurement(digest: digest, size: cached.count), reused: true)
            }
        }
        let built = try Initramfs(init: program, release: kernel.release, modules: ordered, networkModules: network)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw VMMError.file(path: directory, reason: "cannot create the initramfs cache: \(error.localizedDescription)")
        }
        try Self.replace(archivePath, with: built.bytes)
        try Self.replace(digestPath, with: Array(Hex.encode(built.digest).utf8))
        prune(now: Date().timeIntervalSince1970)
        return Entry(path: archivePath, measurement: measurement(digest: built.digest, size: built.bytes.count), reused: false)
    }

    /// Drops the archives beyond the `keep` most recently used that have been idle `minimumIdle`
    /// seconds, with their digests, and temporary files left by a launcher that died mid-write.
    /// Best effort: a file another launcher removes first is simply gone.
    public func prune(now: Double) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        func modified(_ name: String) -> Double? {
            var info = stat()
            guard stat("\(directory)/\(name)", &info) == 0 else { return nil }
            return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        }
        let archives = names.filter { $0.hasSuffix(".cpio") }.compactMap { name in modified(name).map { (name, $0) } }
            .sorted { $0.1 > $1.1 }
        for (name, time) in archives.dropFirst(keep) where now - time >= minimumIdle {
            let stem = "\(directory)/\(name.dropLast(".cpio".count))"
            unlink(stem + ".cpio")
            unlink(stem + ".sha256")
        }
        for name in names where name.contains(".tmp-") {
            if let time = modified(name), now - time >= minimumIdle { unlink("\(directory)/\(name)") }
        }
    }

    static func key(agent: InitramfsMeasurement.Component, release: String, modules: [InitramfsMeasurement.Component]) -> [UInt8] {
        var encoding = ByteWriter()
        encoding.write(Array("coffer-initramfs-cache".utf8) + [0])
        encoding.writeUInt32BE(Initramfs.formatVersion)
        encoding.write(agent.digest)
        func string(_ text: String) {
            encoding.writeUInt32BE(UInt32(truncatingIfNeeded: text.utf8.count))
            encoding.write(Array(text.utf8))
        }
        string(release)
        encoding.writeUInt32BE(UInt32(truncatingIfNeeded: modules.count))
        for module in modules {
            string(module.path)
            encoding.write(module.digest)
        }
        return SHA256Digest.hash(encoding.bytes)
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it over `path`.
    static func replace(_ path: String, with bytes: [UInt8]) throws {
        let temporary = "\(path).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw VMMError.file(path: temporary, reason: "cannot write the initramfs cache: \(error.localizedDescription)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw VMMError.file(path: path, reason: "cannot move the cached initramfs into place: \(reason)")
        }
    }
}
