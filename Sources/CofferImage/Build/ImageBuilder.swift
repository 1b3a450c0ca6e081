import CofferCore
import Crypto
import Foundation

/// Turns a `BuildSpec` into a measured image in the store.
///
/// Everything happens in a fresh directory under `$COFFER_HOME/tmp` and becomes visible by one
/// rename at the end: a failure at any step (bad input, a tool error, a full disk) removes that
/// directory and leaves the store exactly as it was.
public struct ImageBuilder: Sendable {
    public let store: ImageStore
    public let progress: any BuildProgress

    public init(store: ImageStore, progress: any BuildProgress = SilentProgress()) {
        self.store = store
        self.progress = progress
    }

    public struct Result: Sendable {
        public var id: String
        public var manifest: ImageManifest
        public var tags: [ImageReference]
        public var signature: ManifestSignature?
    }

    public func build(_ spec: BuildSpec, tags: [ImageReference] = [], key: BuilderKey? = nil) throws(CofferError) -> Result {
        guard !spec.isEmpty else {
            throw CofferError(.invalidInput, "nothing to build: give --binary, --file, --rootfs, --oci or -f Cofferfile")
        }
        try checkSourcesExist(spec)
        let locked = try store.makeBuildDirectory()
        defer { locked.release() }
        let buildDirectory = locked.path
        do {
            let result = try build(spec, in: buildDirectory, key: key)
            try store.commit(buildDirectory: buildDirectory, id: result.id)
            for tag in tags { try store.setTag(tag, to: result.id) }
            progress.finish()
            return Result(id: result.id, manifest: result.manifest, tags: tags, signature: result.signature)
        } catch {
            progress.finish()
            FileSystem.removeTree(buildDirectory)
            throw error
        }
    }

    /// Fails before any work when a named input is missing, naming it.
    private func checkSourcesExist(_ spec: BuildSpec) throws(CofferError) {
        let named: [(String, String)] =
            spec.rootfsArchives.map { ("--rootfs", $0) } + spec.ociImages.map { ("--oci", $0) }
            + spec.files.map { ("--file", $0.source) } + spec.binaries.map { ("--binary", $0.source) }
        for (flag, path) in named where !FileSystem.exists(path) {
            throw CofferError(.notFound, "\(flag) \(path): no such file or directory")
        }
        for path in spec.rootfsArchives where FileSystem.isDirectory(path) {
            throw CofferError(.invalidInput, "--rootfs \(path): is a directory, not a tar archive (--file SRC:/ copies a directory)")
        }
    }

    private func build(_ spec: BuildSpec, in directory: String, key: BuilderKey?) throws(CofferError) -> (id: String, manifest: ImageManifest, signature: ManifestSignature?) {
        let staging = StagingRoot(path: "\(directory)/rootfs.d")
        guard mkdir(staging.path, 0o755) == 0 else { throw FileSystem.error("cannot create \(staging.path)") }
        staging.own(staging.path)

        var inputs: [BuildInput] = []
        var defaults = ImageDefaults()
        try applyBaseLayers(spec, to: staging, inputs: &inputs, defaults: &defaults)
        if !spec.files.isEmpty { progress.phase("copying files") }
        for file in spec.files {
            let digest = try staging.copy(from: file.source, to: file.destination, progress: progress)
            let kind: BuildInput.Kind = FileSystem.isDirectory(file.source) ? .directory : .file
            inputs.append(BuildInput(kind: kind, digest: digest, destination: file.destination))
        }
        if !spec.binaries.isEmpty { progress.phase("adding binaries") }
        for binary in spec.binaries {
            inputs += try addBinary(binary, to: staging)
        }
        let config = Self.config(spec, defaults: defaults)

        // The EROFS UUID must not depend on the machine or the clock: derive it from the inputs.
        let inputsDigest = try Self.digest(of: InputsAndConfig(inputs: inputs, config: config))
        progress.phase("making EROFS")
        let rootfsPath = "\(directory)/rootfs.erofs"
        try EROFSImage.make(from: staging.path, to: rootfsPath, uuid: Self.uuidString(Self.uuid(from: inputsDigest, label: "erofs")), allRoot: !staging.canChown)
        FileSystem.removeTree(staging.path)

        progress.phase("hashing rootfs")
        let rootfsDigest = try FileDigest.sha256(file: rootfsPath)
        let rootfsSize = try FileSystem.size(rootfsPath)
        progress.phase("building dm-verity tree")
        let verity = try VerityStep.format(rootfs: rootfsPath, hash: "\(directory)/rootfs.verity", rootfsDigest: rootfsDigest, progress: progress)

        let manifest = ImageManifest(
            rootfs: .init(digest: rootfsDigest, size: rootfsSize, verity: verity), config: config, inputs: inputs)
        let canonical = try manifest.canonicalJSON()
        let id = ImageManifest.id(of: canonical)
        try AtomicFile.write(canonical, to: "\(directory)/manifest.json")
        var signature: ManifestSignature?
        if let key {
            let signed = try key.sign(canonical)
            try AtomicFile.write(try Self.encode(signed), to: "\(directory)/manifest.sig")
            signature = signed
        }
        return (id, manifest, signature)
    }

    private func addBinary(_ binary: BuildSpec.Placement, to staging: StagingRoot) throws(CofferError) -> [BuildInput] {
        let dependencies = try libraryClosure(of: binary)
        var inputs: [BuildInput] = []
        let target = try staging.prepareParent(of: binary.destination)
        let digest = try staging.copyFile(binary.source, target, mode: 0o755, progress: progress)
        inputs.append(BuildInput(kind: .binary, digest: digest, destination: binary.destination))
        for library in dependencies {
            let target = try staging.prepareParent(of: library.guestPath)
            let digest = try staging.copyFile(library.hostPath, target, mode: 0o755, progress: progress)
            inputs.append(BuildInput(kind: .library, digest: digest, destination: library.guestPath))
        }
        return inputs
    }

    /// Image defaults from the base image, overridden by what the build spec says.
    static func config(_ spec: BuildSpec, defaults: ImageDefaults) -> ImageConfig {
        var config = ImageConfig()
        config.entrypoint = spec.entrypoint ?? defaults.entrypoint ?? []
        // As in Docker, a new entrypoint discards the base image's cmd unless cmd is given too.
        config.cmd = spec.cmd ?? (spec.entrypoint == nil ? defaults.cmd ?? [] : [])
        if config.entrypoint.isEmpty, config.cmd.isEmpty, spec.binaries.count == 1 {
            config.entrypoint = [spec.binaries[0].destination]
        }
        config.env = Self.merge(env: defaults.env, with: spec.env)
        config.workdir = spec.workdir ?? defaults.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        config.user = spec.user ?? defaults.user.flatMap { $0.isEmpty ? nil : $0 } ?? "0:0"
        config.memoryBytes = spec.memoryBytes
        /// Exact entries name their user and working directory in the manifest itself, so the
        /// image id says exactly what may run (not "whatever the image's user is").
        config.exec = (spec.exec ?? .deny).resolved(user: config.user, cwd: config.workdir)
        config.kbsKey = spec.kbsKey
        return config
    }

    /// Later `KEY=VALUE` entries replace earlier ones with the same key, keeping first-seen order.
    static func merge(env base: [String], with overrides: [String]) -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        for entry in base + overrides {
            let key = String(entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0])
            if values[key] == nil { order.append(key) }
            values[key] = entry
        }
        return order.compactMap { values[$0] }
    }

    private struct InputsAndConfig: Encodable {
        var inputs: [BuildInput]
        var config: ImageConfig
    }

    static func encode(_ value: some Encodable) throws(CofferError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        do { return try encoder.encode(value) } catch {
            throw CofferError(.internalError, "cannot encode \(type(of: value))", cause: error as NSError)
        }
    }

    static func digest(of value: some Encodable) throws(CofferError) -> [UInt8] {
        Array(SHA256.hash(data: try encode(value)))
    }

    /// An RFC 4122 version-4-shaped UUID derived from a digest and a label.
    static func uuid(from digest: [UInt8], label: String) -> [UInt8] {
        var bytes = Array(SHA256.hash(data: digest + Array("coffer \(label) uuid".utf8)).prefix(16))
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        return bytes
    }

    static func uuidString(_ bytes: [UInt8]) -> String {
        let hex = Array(Hex.encode(bytes))
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }
}
