import ArgumentParser
import CofferCore
import CofferImage
import CofferVMM
import CofferWire
import Foundation

/// `coffer run IMAGE [CMD...]`: creates a VM for the image, boots it, runs its workload and (in
/// the foreground) relays its stdio and exits with its status.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an image's program in its own micro-VM; exit with the program's status.",
        discussion: """
            The root file system is the image's EROFS behind dm-verity (root hash on the guest \
            kernel's measured command line) with a tmpfs overlay for writes. Each VM has a monitor \
            process that owns QEMU; `coffer ps`, `exec`, `logs`, `stop`, `kill` and `rm` find it by \
            name or id. In the foreground, Ctrl-C and SIGTERM are passed to the program (with -t, \
            keys go to its terminal).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var launch: LaunchOptions
    @OptionGroup(title: "Confidential launch (decision 0022)") var confidential: ConfidentialOptions
    @Flag(name: .shortAndLong, help: "Detach: print the VM's id once its program runs, and leave it running.") var detach = false
    @Flag(name: .shortAndLong, help: "Keep standard input open and pass it to the program.") var interactive = false
    @Flag(name: .shortAndLong, help: "Give the program a pseudo-terminal.") var tty = false
    @Flag(help: "Remove the VM when its program ends.") var rm = false
    @Option(help: "A name for the VM (letters, digits, '_', '.', '-'). Default: vm-<id prefix>.") var name: String?
    @Option(name: .shortAndLong, help: "Publish a port: [IP:]HOST:GUEST[/tcp|udp] (repeatable; IP defaults to 127.0.0.1).")
    var publish: [String] = []
    @OptionGroup var program: WorkloadOptions
    @Flag(help: "Print the accelerator, the launch measurement and timings on standard error.") var verbose = false
    @Argument(help: "NAME[:TAG] or image id.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "The command, replacing the image's cmd.") var command: [String] = []

    func validate() throws {
        if detach && rm { throw ValidationError("--rm cannot be combined with -d: remove a detached VM with `coffer rm`") }
    }

    func run() throws {
        let status = try reportingErrors { () throws -> Int32 in
            do {
                return try launchVM()
            } catch let error as VMMError {
                throw error.cofferError
            }
        }
        throw ExitCode(status)
    }

    private func launchVM() throws -> Int32 {
        let store = storeOptions.store
        let stored = try store.resolve(image)
        let workload = try program.request(stored.manifest.config, command: command, tty: tty, stdin: interactive).workload()
        let ports = try publish.map { text throws(CofferError) -> PortMapping in
            guard let port = PortMapping(text) else { throw CofferError(.invalidInput, "-p \(text): expected [IP:]HOST:GUEST[/tcp|udp] with ports 1-65535") }
            return port
        }
        let provisioning = try confidential.launch(image: stored.id, pinnedKey: stored.manifest.config.kbsKey, volumeStore: VolumeStore(home: store.home))
        let clock = ContinuousClock(), begun = clock.now
        let (spec, directory) = try launch.create(
            stored, reference: image, workload: workload, name: name, ports: ports, autoRemove: rm, home: store.home, verbose: verbose,
            confidential: provisioning)
        let prepared = clock.now - begun
        let monitor = try MonitorLauncher.spawn(directory, attach: !detach)
        if detach {
            try MonitorLauncher.awaitWorkload(directory, monitor: monitor)
            print(spec.id)
            return 0
        }
        let status = try MonitorLauncher.attachToWorkload(directory, monitor: monitor, stdin: interactive, tty: tty)
        if verbose {
            LaunchOptions.log("prepared (initramfs, measurement) in \(prepared); VM over after \(clock.now - begun)")
        }
        return status
    }
}
