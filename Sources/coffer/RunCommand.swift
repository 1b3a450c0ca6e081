import ArgumentParser
import CofferCore
import CofferImage
import CofferVMM
import CofferWire
import Foundation

/// `coffer run IMAGE [CMD...]`: boots the image in a micro-VM, runs its program and exits with the
/// program's status.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an image's program in its own micro-VM; exit with the program's status.",
        discussion: """
            The root file system is the image's EROFS behind dm-verity (root hash on the guest \
            kernel's measured command line) with a tmpfs overlay for writes. The program's standard \
            output and error are relayed; standard input is /dev/null for now.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .short, help: "Environment variable K=V for the program (repeatable); added after the image's.")
    var env: [String] = []
    @Option(name: .short, help: "Guest memory: MiB, or with a suffix (512M, 1G). Default: the image's, else 256M.")
    var memory: String?
    @Option(help: "Virtual CPUs.") var cpus = 1
    @Option(help: "Override the image's entrypoint (a single program path).") var entrypoint: String?
    @Option(help: "UID[:GID] to run as (numeric; user names are not looked up yet). Default: the image's user.")
    var user: String?
    @Option(help: "auto, kvm or tcg.") var accel = "auto"
    @Option(help: "Seconds the guest has to boot and check in before it is killed.") var bootTimeout = 60.0
    @Option(help: "The static guest agent (default: $COFFER_AGENT, else .build-agent/release/coffer-agent above this executable).")
    var agent: String?
    @Flag(help: "Print the accelerator, the launch measurement and timings on standard error.") var verbose = false
    @Argument(help: "NAME[:TAG] or image id.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "The command, replacing the image's cmd.") var command: [String] = []

    func run() throws {
        let status = try reportingErrors { () throws -> Int32 in
            do {
                return try launch()
            } catch let error as VMMError {
                throw error.cofferError
            }
        }
        throw ExitCode(status)
    }

    private func launch() throws -> Int32 {
        let store = storeOptions.store
        let stored = try store.resolve(image)
        let config = stored.manifest.config
        let start = try WorkloadRequest(
            config: config, command: command, entrypoint: entrypoint, extraEnv: env, user: user
        ).start()
        let choice = try ImageLaunch.accelerator(accel)
        // Said on every run, whatever the flags: nothing on this path is confidential yet.
        FileHandle.standardError.write(Data(
            "coffer: development mode: plain VM under \(choice.accelerator.rawValue), not confidential (no TDX or SEV-SNP launch)\n".utf8))

        let clock = ContinuousClock(), begun = clock.now
        let runDirectory = try RunDirectory(home: store.home)
        defer { runDirectory.remove() }
        let handlers = Self.stopOnInterrupt(removing: runDirectory)
        defer { for handler in handlers { handler.cancel() } }
        let launch = try ImageLaunch.prepare(stored, home: store.home, agent: agent)
        let vm = launch.configuration(
            memoryMiB: try memoryMiB(config.memoryBytes), cpus: cpus, accelerator: choice.accelerator,
            tscKilohertz: HostFacts.probe().tscKilohertz, agentSocket: runDirectory.file("agent.sock"),
            consoleLog: runDirectory.file("console.log"))
        if verbose {
            let measurement = try launch.measurement(of: vm)
            log("accelerator \(choice.reason)")
            log("launch measurement \(measurement.digestHex)")
            log("  kernel    sha256:\(Hex.encode(measurement.kernelDigest)) \(launch.kernel.release)")
            log("  initramfs \(launch.initramfs.measurement.digestHex)\(launch.initramfs.reused ? " (cached)" : "")")
            log("  cmdline   \(measurement.commandLine)")
        }
        let prepared = clock.now - begun
        let report = try VMSupervisor().run(
            vm, start: start, qemuLog: runDirectory.file("qemu.log"), deadline: bootTimeout
        ) { kind, bytes in
            (kind == .stderr ? FileHandle.standardError : FileHandle.standardOutput).write(Data(bytes))
        }
        if verbose {
            log("prepared (initramfs, measurement) in \(prepared); from QEMU's start: ready after \(report.secondsToReady) s, workload \(report.exit) after \(report.secondsToExit) s; QEMU gone after \(clock.now - begun - prepared)")
        }
        return report.exit.shellStatus
    }

    /// Ctrl-C or SIGTERM: kill the VM, remove its run directory, exit 128+N. (Handled on a
    /// dispatch queue, not in signal context, so waiting and removing files are allowed.)
    static func stopOnInterrupt(removing directory: RunDirectory) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                RunningVMs.killAll()
                directory.remove()
                FileHandle.standardError.write(Data("coffer: interrupted; the VM was killed\n".utf8))
                Foundation.exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    private func memoryMiB(_ imageBytes: UInt64?) throws -> Int {
        guard let memory else { return imageBytes.map { max(64, Int(($0 + (1 << 20) - 1) >> 20)) } ?? 256 }
        if let mebibytes = Int(memory) { return mebibytes }
        guard let bytes = MemorySize.parse(memory) else { throw CofferError(.invalidInput, "-m \(memory): expected MiB or a size such as 512M or 1G") }
        return Int(bytes >> 20)
    }

    private func log(_ line: String) { FileHandle.standardError.write(Data("coffer: \(line)\n".utf8)) }
}

extension CommandLine {
    /// This process's executable, from /proc/self/exe.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
