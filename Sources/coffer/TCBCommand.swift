import ArgumentParser
import CofferCore
import CofferImage
import CofferVMM
import Foundation

/// `coffer tcb IMAGE`: every measured component of a launch of the image, with sizes and digests,
/// as `coffer run` would launch it (same kernel, initramfs, command line and root).
struct TCBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcb",
        abstract: "List what a launch of an image measures: kernel, initramfs and its files, command line, root file system.",
        discussion: """
            The launch is prepared exactly as `coffer run` prepares it (the initramfs is built or \
            taken from the cache), but no VM is started. The guest userspace total is the agent \
            plus its kernel modules: the guest's code besides the kernel. Under TCG the command \
            line carries the host's TSC rate, so the launch measurement is host-specific there.             The command line also binds the workload (coffer.workload=, a digest of its program,             arguments, environment, working directory and user): give the same CMD and options as             to `coffer run` to get the measurement of that run.
            """)

    /// The budget for the guest's userspace (agent + modules), in bytes (decimal MB).
    static let userspaceGoalBytes = 20_000_000

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "table or json") var format: OutputFormat = .table
    @Option(help: "auto, kvm or tcg (the command line differs: tsc_early_khz under TCG).") var accel = "auto"
    @OptionGroup var guest: GuestOptions
    @OptionGroup var program: WorkloadOptions
    @OptionGroup(title: "Confidential launch (as for `run`)") var confidential: ConfidentialOptions
    @Flag(name: .shortAndLong, help: "As `run -t` (the program gets TERM=xterm, which the measurement binds).") var tty = false
    @Argument(help: "NAME[:TAG] or image id.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "The command, as for `run` (the measurement binds it).") var command: [String] = []

    func run() throws {
        try reportingErrors {
            do {
                let report = try report()
                switch format {
                case .json: try printJSON(report)
                case .table, .text: print(report.table)
                }
            } catch let error as VMMError {
                throw error.cofferError
            }
        }
    }

    private func report() throws -> TCBReport {
        let store = storeOptions.store
        let stored = try store.resolve(image)
        let launch = try guest.prepare(stored, home: store.home)
        let choice = try ImageLaunch.accelerator(accel)
        // The run directory's paths are not measured; placeholders stand in for them.
        // The workload `coffer run` with the same options starts (program, arguments, env,
        // workdir, user): bound on the command line, so each choice has its own measurement.
        let workload = try program.request(stored.manifest.config, command: command, tty: tty, stdin: false).workload()
        let provisioning = try confidential.launch(image: stored.id, pinnedKey: stored.manifest.config.kbsKey, volumeStore: VolumeStore(home: store.home))
        let vm = launch.configuration(
            accelerator: choice.accelerator, tscKilohertz: HostFacts.probe().tscKilohertz, agentSocket: "-", consoleLog: "-",
            workload: workload.binding, initData: provisioning?.measured, volumes: provisioning?.volumeDisks ?? [])
        let measurement = try launch.measurement(of: vm)
        let kernelSize = Self.size(launch.kernel.vmlinuz)
        // Every kernel in the cache beside the launch's, for comparison (Debian's cloud kernel with
        // its modules, Coffer's own with everything built in).
        let cached = KernelCache(home: store.home).installed().map { kernel in
            TCBReport.CachedKernel(
                release: kernel.release, path: kernel.vmlinuz, package: "\(kernel.package) \(kernel.packageVersion)", size: Self.size(kernel.vmlinuz),
                builtInOptions: kernel.optionCounts?.builtIn, moduleOptions: kernel.optionCounts?.modules, hasModules: !kernel.modules.isEmpty)
        }
        let initramfs = launch.initramfs.measurement
        let rootfs = stored.manifest.rootfs
        return TCBReport(
            image: stored.id, accelerator: choice.accelerator.rawValue,
            kernel: .init(path: launch.kernel.vmlinuz, release: launch.kernel.release, size: kernelSize,
                digest: "sha256:" + Hex.encode(measurement.kernelDigest), builtInOptions: launch.kernel.optionCounts?.builtIn,
                moduleOptions: launch.kernel.optionCounts?.modules),
            initramfs: .init(path: launch.initramfs.path, size: initramfs.size, digest: initramfs.digestHex,
                agent: .init(initramfs.agent), modules: initramfs.modules.map(TCBReport.File.init)),
            commandLine: measurement.commandLine,
            rootfs: .init(size: rootfs.size, digest: rootfs.digest, verityRootHash: rootfs.verity.rootHash,
                verityHashSize: rootfs.verity.hashSize),
            launchMeasurement: measurement.digestHex,
            guestUserspace: .init(bytes: initramfs.userspaceSize, goalBytes: Self.userspaceGoalBytes,
                withinGoal: initramfs.userspaceSize <= Self.userspaceGoalBytes),
            guestTCBBytes: kernelSize + initramfs.size, cachedKernels: cached, initData: provisioning.map(TCBReport.InitData.init))
    }

    private static func size(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
}

/// What `coffer tcb` prints; its JSON form is stable for scripts.
struct TCBReport: Encodable {
    struct Kernel: Encodable {
        var path: String; var release: String; var size: Int; var digest: String
        /// From the kernel's `config` beside its bzImage; absent for a bzImage without one.
        var builtInOptions: Int?; var moduleOptions: Int?
    }
    struct CachedKernel: Encodable {
        var release: String; var path: String; var package: String; var size: Int; var builtInOptions: Int?; var moduleOptions: Int?; var hasModules: Bool
    }
    struct File: Encodable {
        var path: String
        var size: Int
        var digest: String
        init(_ component: InitramfsMeasurement.Component) {
            path = component.path
            size = component.size
            digest = component.digestHex
        }
    }
    struct Initramfs: Encodable { var path: String; var size: Int; var digest: String; var agent: File; var modules: [File] }
    struct RootFS: Encodable { var size: Int64; var digest: String; var verityRootHash: String; var verityHashSize: Int64 }
    struct Userspace: Encodable { var bytes: Int; var goalBytes: Int; var withinGoal: Bool }

    var image: String
    var accelerator: String
    var kernel: Kernel
    var initramfs: Initramfs
    var commandLine: String
    var rootfs: RootFS
    var launchMeasurement: String
    var guestUserspace: Userspace
    /// The kernel's and the initramfs's bytes: everything the launch loads besides the image.
    var guestTCBBytes: Int
    var cachedKernels: [CachedKernel]
    /// A confidential launch's init-data (`--kbs`, `--secret`, `-v`): its digest, on the command
    /// line as `coffer.initdata=`, and what it names. Resource URIs only: init-data holds no secret.
    var initData: InitData?

    struct InitData: Encodable {
        struct Secret: Encodable { var resource: String; var path: String }
        struct Volume: Encodable { var name: String; var key: String; var path: String; var serial: String; var disk: String }
        var digest: String
        var size: Int
        var brokerURL: String?
        /// SHA-256 of the broker identity's PEM, as the guest will trust it.
        var brokerIdentity: String?
        var secrets: [Secret]
        var volumes: [Volume]
        /// The document's text, as the guest and the broker receive it.
        var document: String

        init(_ launch: ConfidentialOptions.Launch) {
            let configuration = launch.configuration
            digest = "\(launch.measured.algorithm):\(Hex.encode(launch.measured.digest))"
            size = launch.document.bytes.count
            brokerURL = configuration.broker?.url
            brokerIdentity = configuration.broker.map { "sha256:" + Hex.encode(SHA256Digest.hash(Array($0.identity.utf8))) }
            secrets = configuration.secrets.map { Secret(resource: $0.resource, path: $0.path) }
            volumes = configuration.volumes.enumerated().map { index, volume in
                Volume(name: volume.name, key: volume.key, path: volume.path, serial: VMConfiguration.volumeSerial(index), disk: launch.volumeDisks[index])
            }
            document = launch.document.text
        }

        var table: String {
            var rows = [["INIT-DATA", "NAMES"]]
            rows.append(["digest", "\(digest) (\(size) bytes)"])
            if let brokerURL { rows.append(["broker", brokerURL]) }
            if let brokerIdentity { rows.append(["  identity", "signing key PEM \(brokerIdentity)"]) }
            for secret in secrets { rows.append(["secret \(secret.path)", secret.resource]) }
            for volume in volumes { rows.append(["volume \(volume.name) at \(volume.path)", "key \(volume.key), disk \(volume.serial)"]) }
            return TextTable.render(rows)
        }
    }

    /// The same file, whichever symbolic links (the cache is often shared by one) lead to it.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).resolvingSymlinksInPath().path == URL(fileURLWithPath: b).resolvingSymlinksInPath().path
    }

    var table: String {
        var rows = [["COMPONENT", "SIZE", "SHA-256"]]
        rows.append(["kernel \(kernel.release)", "\(kernel.size)", kernel.digest])
        rows.append(["initramfs", "\(initramfs.size)", initramfs.digest])
        rows.append(["  /\(initramfs.agent.path) (coffer-agent)", "\(initramfs.agent.size)", initramfs.agent.digest])
        for module in initramfs.modules { rows.append(["  /\(module.path)", "\(module.size)", module.digest]) }
        rows.append(["rootfs (EROFS)", "\(rootfs.size)", rootfs.digest])
        rows.append(["  dm-verity tree", "\(rootfs.verityHashSize)", "root hash \(rootfs.verityRootHash)"])
        let goal = guestUserspace.withinGoal ? "within" : "OVER"
        var kernelRows = [["CACHED KERNEL", "SIZE", "OPTIONS", "PACKAGE"]]
        for cached in cachedKernels {
            let options = cached.builtInOptions.map { "\($0) built in, \(cached.moduleOptions ?? 0) modules" } ?? "-"
            kernelRows.append([cached.release + (Self.sameFile(cached.path, kernel.path) ? " (this launch)" : ""), "\(cached.size)", options, cached.package])
        }
        let kernelOptions = kernel.builtInOptions.map { ", \($0) options built in, \(kernel.moduleOptions ?? 0) as modules" } ?? ""
        return TextTable.render(rows) + """


            kernel              \(ImagesCommand.humanSize(Int64(kernel.size))) (\(kernel.size) bytes\(kernelOptions))
            guest TCB           \(ImagesCommand.humanSize(Int64(guestTCBBytes))) (\(guestTCBBytes) bytes: kernel + initramfs)

            """ + TextTable.render(kernelRows) + """


            command line        \(commandLine)
            launch measurement  \(launchMeasurement) (\(accelerator))
            guest userspace     \(ImagesCommand.humanSize(Int64(guestUserspace.bytes))) (\(guestUserspace.bytes) bytes: \
            agent + \(initramfs.modules.count) modules), \(goal) the goal of at most \
            \(ImagesCommand.humanSize(Int64(guestUserspace.goalBytes)))
            """ + (initData.map { "\n\n" + $0.table } ?? "")
    }
}
