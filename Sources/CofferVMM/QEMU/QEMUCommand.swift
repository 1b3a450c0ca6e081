import Foundation

/// The QEMU command line for a VM: the machine (`-M microvm`, or q35 for the TEE launch, see
/// `QEMUCommand+Machine.swift`), direct kernel boot, no default devices, the serial console to a
/// file, one virtio-serial port for the agent, and the disks. Pure: same configuration, same arguments.
public enum QEMUCommand {
    public static let executable = "qemu-system-x86_64"
    /// The Debian package that provides `executable`.
    public static let package = "qemu-system-x86"

    /// `microvm` without option ROMs: its firmware (qboot) loads the kernel and initramfs through
    /// fw_cfg DMA itself, and does not scan for ROMs first.
    public static let machine = "microvm,x-option-roms=off"

    /// The arguments after the executable's name.
    public static func arguments(for vm: VMConfiguration) throws(VMMError) -> [String] {
        guard vm.memoryMiB >= 64, vm.memoryMiB <= 1 << 20 else {
            throw .invalidConfiguration("memory must be between 64 MiB and 1 TiB, not \(vm.memoryMiB) MiB")
        }
        guard vm.cpus >= 1, vm.cpus <= 255 else { throw .invalidConfiguration("cpus must be between 1 and 255, not \(vm.cpus)") }
        // sockaddr_un.sun_path holds 108 bytes including the NUL.
        guard vm.agentSocket.utf8.count < 108 else {
            throw .invalidConfiguration("the agent socket path \(vm.agentSocket) is longer than a Unix socket allows (107 bytes)")
        }
        let boot = directBoot(for: vm)
        var arguments = try machineArguments(for: vm)
        arguments += [
            "-m", "\(vm.memoryMiB)", "-smp", "\(vm.cpus)",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-kernel", boot.kernel, "-initrd", boot.initrd, "-append", boot.commandLine,
            // The `file:` form takes the rest of the argument literally: no escaping needed.
            "-serial", "file:\(vm.consoleLog)",
            "-device", device("virtio-serial", vm),
            // QEMU connects to the launcher's socket at start-up, before the guest runs: the
            // launcher owns the socket file (mode 0600) and never waits for QEMU to create it.
            "-chardev", "socket,id=agent,path=\(optionValue(vm.agentSocket))",
            "-device", "virtserialport,chardev=agent,name=coffer.agent",
        ]
        for (index, disk) in vm.readOnlyDisks.enumerated() {
            try checkSerial(disk.serial)
            arguments += [
                "-drive", "file=\(optionValue(disk.path)),format=raw,if=none,readonly=on,id=disk\(index)",
                "-device", "\(device("virtio-blk", vm)),drive=disk\(index),serial=\(disk.serial)",
            ]
        }
        // Read-write; QEMU's own image locking also keeps a second QEMU from opening one.
        for (index, disk) in vm.volumeDisks.enumerated() {
            try checkSerial(disk.serial)
            arguments += [
                "-drive", "file=\(optionValue(disk.path)),format=raw,if=none,id=vol\(index)",
                "-device", "\(device("virtio-blk", vm)),drive=vol\(index),serial=\(disk.serial)",
            ]
        }
        if !vm.ports.isEmpty {
            // Outbound connections work too (as under Docker); inbound only what is published.
            arguments += [
                "-netdev", (["user", "id=net0"] + vm.ports.map { "hostfwd=\($0.hostForward)" }).joined(separator: ","),
                "-device", "\(device("virtio-net", vm)),netdev=net0",
            ]
        }
        return arguments
    }

    /// A virtio device on the VM's transport: `virtio-blk-device` (virtio-mmio) on microvm;
    /// on q35 `virtio-blk-pci`, modern only and behind the platform's DMA API
    /// (`iommu_platform=on`): a TDX or SNP guest kernel refuses virtio devices without
    /// VIRTIO_F_ACCESS_PLATFORM, since it must bounce their DMA through shared memory. The plain
    /// q35 shape uses the same devices, so that it tests the TEE launch's layout.
    static func device(_ kind: String, _ vm: VMConfiguration) -> String {
        vm.shape.usesPCI ? "\(kind)-pci,disable-legacy=on,iommu_platform=on" : "\(kind)-device"
    }

    private static func checkSerial(_ serial: String) throws(VMMError) {
        guard serial.utf8.count <= 20, !serial.isEmpty, serial.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw .invalidConfiguration("disk serial \(serial) must be 1-20 letters, digits or '-'")
        }
    }

    /// The guest kernel's command line: Coffer's fixed arguments, then the VM's own. The one
    /// function that writes it, for every machine shape: `LaunchMeasurement`, `directBoot` (what a
    /// TDX or SNP launch hands the firmware to measure) and `coffer measure` all read it from here.
    ///
    /// - `panic=-1` with QEMU's `-no-reboot`: a guest kernel that panics ends the VM at once instead
    ///   of waiting for the deadline.
    /// - `tsc_early_khz` (TCG only): under TCG the guest reads the host's TSC, and the kernel's own
    ///   calibration against the emulated PIT fails on a busy host, after which boot hangs. The
    ///   value is host-specific, which is acceptable only because TCG is development mode.
    /// - `cryptomgr.notests` (TCG only): the kernel's boot-time self-tests of every registered
    ///   crypto algorithm take about 0.5 s of emulated CPU (`crypto_algapi_init`, the largest
    ///   initcall under TCG). They check implementations against known answers, which guards
    ///   against broken code or hardware, not against the host; with KVM (and so on TDX and
    ///   SEV-SNP) they cost milliseconds and stay on.
    /// - `coffer.tee=tdx|snp` (confidential launches only): the TEE the guest must find its
    ///   evidence from. It is on the measured line, so the agent learns the TEE from its measured
    ///   configuration, never from the host; a host that drops it changes the measurement.
    public static func kernelCommandLine(for vm: VMConfiguration) -> String {
        var arguments = ["console=ttyS0", "panic=-1", "rdinit=/init"]
        if vm.accelerator == .tcg {
            if let khz = vm.tscKilohertz { arguments.append("tsc_early_khz=\(khz)") }
            arguments.append("cryptomgr.notests")
        }
        if let guest = vm.shape.confidentialGuest { arguments.append("\(teeParameter)=\(guest.tee.rawValue)") }
        // The network device is part of the launch: its presence is on the measured command line.
        if !vm.ports.isEmpty { arguments.append("coffer.net=user") }
        return (arguments + vm.extraKernelArguments).joined(separator: " ")
    }

    /// The kernel parameter naming a confidential launch's TEE.
    public static let teeParameter = "coffer.tee"

    /// A value inside a QEMU `key=value,...` option: commas are doubled.
    static func optionValue(_ value: String) -> String {
        value.replacingOccurrences(of: ",", with: ",,")
    }
}

