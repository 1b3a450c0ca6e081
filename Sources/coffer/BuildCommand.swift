import ArgumentParser
import CofferCore
import CofferImage
import Foundation

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a measured, integrity-protected, reproducible image.",
        discussion: """
            Inputs combine: root file systems and OCI images first (in order), then files, then \
            binaries with their shared libraries. Prints the image id (the SHA-256 of its manifest).
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .customShort("f"), help: "A Cofferfile (YAML; JSON works too). See docs/cofferfile.md.")
    var cofferfile: String?

    @Option(name: .customShort("t"), help: "Tag the image NAME[:TAG] (repeatable).")
    var tags: [String] = []

    @Option(name: .customLong("binary"), help: "An ELF executable SRC[:DEST]; its shared-library closure is added.")
    var binaries: [String] = []

    @Option(name: .customLong("file"), help: "A file or directory SRC[:DEST], copied as it is.")
    var files: [String] = []

    @Option(name: .customLong("rootfs"), help: "A root file system tarball (docker export; plain or gzip).")
    var rootfs: [String] = []

    @Option(name: .customLong("oci"), help: "An OCI image layout directory or a docker save archive.")
    var oci: [String] = []

    @Option(help: "Entrypoint as a JSON array or a single path.") var entrypoint: String?
    @Option(help: "Default command as a JSON array.") var cmd: String?
    @Option(name: .shortAndLong, help: "Environment KEY=VALUE (repeatable).") var env: [String] = []
    @Option(help: "Working directory.") var workdir: String?
    @Option(help: "User (uid[:gid] or a name from the image's /etc/passwd).") var user: String?
    @Option(help: "Default guest memory, e.g. 512M.") var memory: String?
    @Option(name: .customLong("kbs-key"), help: ArgumentHelp(
        "Pin the key broker: its ES256 signing public key (PEM, its home's kbs/signing.pub). The guest then takes secrets and volume keys from no other broker; the image id covers it.",
        valueName: "file"))
    var kbsKey: String?

    @Option(help: "Builder key (PKCS#8 PEM); default: the store's key from `coffer key generate`, if any.")
    var key: String?
    @Flag(help: "Do not sign the manifest.") var noSign = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let interruptions = Self.cleanUpOnInterrupt()
        defer { interruptions.forEach { $0.cancel() } }
        try reportingErrors {
            let store = storeOptions.store
            var spec = BuildSpec()
            var tagTexts = tags
            if let cofferfile {
                let loaded = try BuildSpec.load(cofferfile: cofferfile)
                spec = loaded.spec
                if let tag = loaded.tag { tagTexts.insert(tag, at: 0) }
            }
            try apply(to: &spec)
            let references = try tagTexts.map { text throws(CofferError) in try ImageReference(parsing: text) }
            let signingKey = noSign ? nil : try KeyCommand.loadKey(explicit: key, store: store)
            let progress: any BuildProgress = TerminalProgress() ?? SilentProgress()
            let result = try ImageBuilder(store: store, progress: progress).build(spec, tags: references, key: signingKey)
            if json {
                try printJSON(BuildOutput(id: result.id, rootHash: result.manifest.rootfs.verity.rootHash,
                    tags: result.tags.map(\.description), signedBy: result.signature?.keyId,
                    brokerPin: try ImageLaunch.brokerPin(result.manifest.config)?.description))
            } else {
                print(result.id)
                let pin = try ImageLaunch.brokerPin(result.manifest.config).map { "broker     pinned to \($0.description)\n" } ?? ""
                FileHandle.standardError.write(Data("""
                    root hash  \(result.manifest.rootfs.verity.rootHash)
                    rootfs     \(result.manifest.rootfs.digest) (\(result.manifest.rootfs.size) bytes)
                    signed     \(result.signature.map { "by \($0.keyId)" } ?? "no (run `coffer key generate` to sign builds)")

                    """.utf8) + Data(pin.utf8))
            }
        }
    }

    private func apply(to spec: inout BuildSpec) throws {
        spec.rootfsArchives += rootfs
        spec.ociImages += oci
        spec.files += try files.map { text throws(CofferError) in try BuildSpec.Placement(parsing: text, flag: "--file") }
        spec.binaries += try binaries.map { text throws(CofferError) in try BuildSpec.Placement(parsing: text, flag: "--binary") }
        if let entrypoint { spec.entrypoint = try Self.argv(entrypoint, flag: "--entrypoint") }
        if let cmd { spec.cmd = try Self.argv(cmd, flag: "--cmd") }
        spec.env += env
        for entry in env where !entry.contains("=") {
            throw CofferError(.invalidInput, "--env \(entry): expected KEY=VALUE")
        }
        if let kbsKey { spec.kbsKey = try ConfidentialOptions.signingKey(kbsKey) }
        if let workdir { spec.workdir = workdir }
        if let user { spec.user = user }
        if let memory {
            guard let bytes = MemorySize.parse(memory) else {
                throw CofferError(.invalidInput, "--memory \(memory): expected a size such as 512M or 2G")
            }
            spec.memoryBytes = bytes
        }
    }

    /// Ctrl-C or SIGTERM mid-build: remove the build directory now rather than leave up to a whole
    /// unpacked root file system in the store until the next build sweeps it, then exit 128+N.
    /// (Handled on a dispatch queue, not in signal context, so removing a tree is allowed.)
    static func cleanUpOnInterrupt() -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("coffer: interrupted; the build was abandoned and nothing was added\n".utf8))
                BuildDirectory.removeHeld()
                Foundation.exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    /// A JSON array of strings, or one bare word taken as a one-element argv.
    static func argv(_ text: String, flag: String) throws(CofferError) -> [String] {
        guard text.hasPrefix("[") else { return [text] }
        guard let array = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
            throw CofferError(.invalidInput, "\(flag) \(text): expected a JSON array of strings")
        }
        return array
    }

    struct BuildOutput: Encodable {
        var id: String
        var rootHash: String
        var tags: [String]
        var signedBy: String?
        /// `sha256:` of the pinned broker key's SubjectPublicKeyInfo (`coffer.kbs=`), if any.
        var brokerPin: String?
    }
}
