import ArgumentParser
import CofferCore
import CofferImage
import CofferVMM
import CofferWire
import Foundation

/// What a launch boots besides the image: the kernel (with its modules) and the agent. Shared by
/// `run` and `tcb`, so that `tcb` lists exactly what a run with the same flags measures.
struct GuestOptions: ParsableArguments {
    @Option(help: "Boot this bzImage instead of the cached Debian cloud kernel (`coffer setup`).") var kernel: String?
    @Option(help: "With --kernel: its lib/modules/<release> tree (none: the drivers Coffer needs are built in).")
    var kernelModules: String?
    @Option(help: "The static guest agent (default: $COFFER_AGENT, else .build-agent/release/coffer-agent above this executable).")
    var agent: String?

    func prepare(_ stored: StoredImage, home: String) throws -> GuestLaunch {
        if kernelModules != nil && kernel == nil { throw CofferError(.invalidInput, "--kernel-modules needs --kernel") }
        return try ImageLaunch.prepare(stored, home: home, agent: agent, kernel: kernel, kernelModules: kernelModules)
    }
}

/// How a VM is booted: memory, CPUs, accelerator, boot deadline, agent. Turns an image into a
/// created VM (its directory, initramfs and spec).
struct LaunchOptions: ParsableArguments {
    @Option(name: .customShort("m"), help: "Guest memory: MiB, or with a suffix (512M, 1G). Default: the image's, else 256M.")
    var memory: String?
    @Option(help: "Virtual CPUs.") var cpus = 1
    @Option(help: "auto, kvm or tcg.") var accel = "auto"
    @Option(help: "Seconds the guest has to boot and check in before it is killed.") var bootTimeout = 60.0
    @OptionGroup var guest: GuestOptions
    @Option(help: ArgumentHelp(
        "Launch a confidential guest: tdx or snp (docs/confidential-launch.md). Refused, with what is missing, when this host cannot have it.",
        valueName: "tdx|snp"))
    var tee: String?
    @Option(help: ArgumentHelp("With --tee: the firmware, a TDVF for tdx or an AmdSev OVMF with SNP_KERNEL_HASHES for snp.", valueName: "file"))
    var firmware: String?
    @Option(help: ArgumentHelp("The QEMU binary (default: qemu-system-x86_64 on PATH); --tee needs QEMU >= 10.1 (tdx) or 9.1 (snp).", valueName: "path"))
    var qemu: String?
    /// Development only, for tests: the TEE launch's q35 + virtio-pci shape WITHOUT its
    /// confidential object, so that its device layout can be booted on any host. Never confidential.
    @Option(name: .customLong("x-machine"), help: .hidden) var developmentMachine: String?
    /// With --x-machine q35: the firmware as -bios (default: QEMU's SeaBIOS).
    @Option(name: .customLong("x-bios"), help: .hidden) var developmentBIOS: String?

    /// Creates the VM: checks the image's verity parameters, writes the initramfs, computes the
    /// launch measurement and stores the spec. Says, on every run, that nothing here is confidential.
    func create(
        _ stored: StoredImage, reference: String, workload: VMSpec.Workload, name: String?, ports: [PortMapping] = [], autoRemove: Bool, home: String,
        verbose: Bool, confidential: ConfidentialOptions.Launch? = nil
    ) throws -> (VMSpec, VMDirectory) {
        if let name, !Self.isValidName(name) {
            throw CofferError(.invalidInput, "--name \(name): use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 64)")
        }
        let launch = try guest.prepare(stored, home: home)
        let choice = try ImageLaunch.accelerator(accel)
        let memoryMiB = try memoryMiB(stored.manifest.config.memoryBytes)
        let machine = try machine(kernel: launch.kernel, accelerator: choice.accelerator, initData: confidential?.measured)
        if let guest = machine.confidentialGuest {
            Self.log("confidential launch: \(guest.tee.displayName) under KVM, firmware \(guest.firmware)")
        } else {
            // Said on every plain run, whatever the flags: nothing on this path is confidential.
            let shape = machine.usesPCI ? " (q35, virtio-pci)" : ""
            FileHandle.standardError.write(Data(
                "coffer: development mode: plain VM under \(choice.accelerator.rawValue)\(shape), not confidential (no TDX or SEV-SNP launch)\n".utf8))
        }
        if let confidential {
            try VolumeLock.check(confidential.volumeDisks)
            // The guest asks this host to sign its sample evidence; make the key now, so that the
            // broker's --sample-signer can be given its public half before the guest asks.
            let store = ImageStore(home: home)
            _ = try LauncherKey.load(explicit: nil, store: store)
            if let url = confidential.brokerURL {
                Self.log(
                    "secrets come from the broker at \(url) only after the guest attests; the evidence is SAMPLE evidence signed by this "
                        + "host's launcher key (\(store.keysDirectory)/launcher.pub), not hardware-backed: the broker takes it only with --dev")
            }
        }
        return try VMStore(home: home).create { id, directory in
            // The VM keeps its own link to the cached archive: `start` boots the same bytes even
            // after the cache holds a newer agent's.
            let initramfs = directory.file("initramfs.cpio")
            if link(launch.initramfs.path, initramfs) != 0 { try FileManager.default.copyItem(atPath: launch.initramfs.path, toPath: initramfs) }
            var vm = launch.configuration(
                memoryMiB: memoryMiB, cpus: cpus, accelerator: choice.accelerator, tscKilohertz: HostFacts.probe().tscKilohertz,
                agentSocket: directory.file("agent.sock"), consoleLog: directory.file("console.log"), workload: workload.binding,
                initData: confidential?.measured, volumes: confidential?.volumeDisks ?? [])
            vm.initramfs = initramfs
            vm.ports = ports
            vm.machine = machine == .microvm ? nil : machine
            let measurement = try launch.measurement(of: vm)
            if verbose {
                Self.log("accelerator \(choice.reason)")
                Self.log("launch measurement \(measurement.digestHex)")
                Self.log("  kernel    sha256:\(Hex.encode(measurement.kernelDigest)) \(launch.kernel.release)")
                Self.log("  initramfs sha256:\(Hex.encode(launch.initramfs.measurement.digest))\(launch.initramfs.reused ? " (cached)" : "")")
                Self.log("  cmdline   \(measurement.commandLine)")
                if let confidential {
                    Self.log("  init-data \(confidential.measured.algorithm):\(Hex.encode(confidential.measured.digest))")
                    for (index, volume) in confidential.configuration.volumes.enumerated() {
                        Self.log("  volume    \(volume.name) at \(volume.path): disk \(VMConfiguration.volumeSerial(index)) (\(confidential.volumeDisks[index]))")
                    }
                }
            }
            let vmName = name ?? "vm-\(id.prefix(8))"
            return VMSpec(
                id: id, name: vmName, image: reference, imageID: stored.id, created: Date().timeIntervalSince1970, vm: vm,
                workload: workload, hostname: Self.hostname(for: vmName), bootDeadline: bootTimeout,
                launchMeasurement: measurement.digestHex, autoRemove: autoRemove, initData: confidential?.document.text,
                brokerCertificate: confidential?.brokerCertificate, brokerURL: confidential?.brokerURL, qemu: qemu)
        }
    }

    /// The machine these options ask for. `--tee` is checked against this host first
    /// (`ConfidentialHost`): when it cannot be had, the launch is refused with everything it
    /// lacks, and no VM that is not confidential is started in its place.
    func machine(kernel: GuestKernel, accelerator: Accelerator, initData: MeasuredInitData?) throws -> Machine {
        if developmentBIOS != nil && developmentMachine == nil { throw CofferError(.invalidInput, "--x-bios needs --x-machine q35") }
        guard let tee else {
            if firmware != nil { throw CofferError(.invalidInput, "--firmware needs --tee tdx|snp") }
            switch developmentMachine {
            case nil: return .microvm
            case "q35": return .q35(firmware: developmentBIOS)
            case let other?: throw CofferError(.invalidInput, "--x-machine \(other): only q35 (the TEE launch's shape, not confidential)")
            }
        }
        guard let kind = TEE(rawValue: tee) else { throw CofferError(.invalidInput, "--tee must be tdx or snp, not \(tee)") }
        if developmentMachine != nil { throw CofferError(.invalidInput, "--x-machine cannot be combined with --tee") }
        if accel == "tcg" { throw CofferError(.invalidInput, "--tee \(tee) runs only under KVM: drop --accel tcg") }
        var missing = ConfidentialHost.probe(kind, qemu: qemu, firmware: firmware, kernel: kernel).missing
        if accelerator != .kvm && !missing.contains(where: { $0.contains("/dev/kvm") }) {
            missing.append("--tee \(tee) needs KVM: the accelerator is \(accelerator.rawValue)")
        }
        if let initData, initData.digest.count != 48 {
            missing.append("--tee \(tee) binds a 48-byte (sha384) init-data digest, not \(initData.algorithm)")
        }
        guard missing.isEmpty, let firmware else { throw VMMError.teeUnavailable(kind, missing: missing).cofferError }
        return .confidential(ConfidentialGuest(tee: kind, firmware: firmware, initDataDigest: initData?.digest))
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 64, first != UInt8(ascii: "_"), first != UInt8(ascii: "."), first != UInt8(ascii: "-") else { return false }
        return name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }
    }

    /// The VM's name as a host name: '_' is not allowed there.
    static func hostname(for name: String) -> String {
        let candidate = name.replacingOccurrences(of: "_", with: "-")
        return GuestHostname.isValid(candidate) ? candidate : "coffer"
    }

    private func memoryMiB(_ imageBytes: UInt64?) throws -> Int {
        guard let memory else { return imageBytes.map { max(64, Int(($0 + (1 << 20) - 1) >> 20)) } ?? 256 }
        if let mebibytes = Int(memory) { return mebibytes }
        guard let bytes = MemorySize.parse(memory) else { throw CofferError(.invalidInput, "-m \(memory): expected MiB or a size such as 512M or 1G") }
        return Int(bytes >> 20)
    }

    static func log(_ line: String) { FileHandle.standardError.write(Data("coffer: \(line)\n".utf8)) }
}

extension CommandLine {
    /// This process's executable, from /proc/self/exe.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
