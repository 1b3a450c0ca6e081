import CofferCore
import CofferTestSupport
import CofferVMM
import Foundation
import Testing

/// The TEE launch's QEMU command lines, pinned: they decide what the hardware measures (the
/// firmware, the vCPU model, HOST_DATA / MRCONFIGID) and what the guest's devices are.
@Suite struct ConfidentialCommandLineTests {
    /// bytes 0...47, standing for an init-data digest (sha384).
    static let digest = (0..<48).map { UInt8($0) }

    func vm(_ machine: Machine, accelerator: Accelerator = .kvm) -> VMConfiguration {
        var vm = VMConfiguration(
            kernel: "/k/vmlinuz", initramfs: "/r/initramfs.cpio", extraKernelArguments: ["coffer.root=abc"],
            memoryMiB: 512, cpus: 2, accelerator: accelerator, tscKilohertz: 2_596_142,
            agentSocket: "/r/agent.sock", consoleLog: "/r/console.log",
            readOnlyDisks: [.init(path: "/i/rootfs.erofs", serial: "coffer-data")], volumeDisks: [.init(path: "/v/a.img", serial: "coffer-vol0")])
        vm.machine = machine
        return vm
    }

    /// Everything after the machine: identical for both TEEs and the plain q35 shape.
    static let pciDevices = [
        "-m", "512", "-smp", "2",
        "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
    ]
    static func tail(_ commandLine: String) -> [String] {
        pciDevices + [
            "-kernel", "/k/vmlinuz", "-initrd", "/r/initramfs.cpio", "-append", commandLine,
            "-serial", "file:/r/console.log",
            "-device", "virtio-serial-pci,disable-legacy=on,iommu_platform=on",
            "-chardev", "socket,id=agent,path=/r/agent.sock",
            "-device", "virtserialport,chardev=agent,name=coffer.agent",
            "-drive", "file=/i/rootfs.erofs,format=raw,if=none,readonly=on,id=disk0",
            "-device", "virtio-blk-pci,disable-legacy=on,iommu_platform=on,drive=disk0,serial=coffer-data",
            "-drive", "file=/v/a.img,format=raw,if=none,id=vol0",
            "-device", "virtio-blk-pci,disable-legacy=on,iommu_platform=on,drive=vol0,serial=coffer-vol0",
        ]
    }

    @Test func snpGolden() throws {
        let snp = vm(.confidential(ConfidentialGuest(tee: .snp, firmware: "/fw/OVMF-AmdSev.fd", initDataDigest: Self.digest)))
        #expect(try QEMUCommand.arguments(for: snp) == [
            "-M", "q35,confidential-guest-support=sev0,memory-backend=ram1",
            "-accel", "kvm", "-cpu", "EPYC-v4",
            "-object", "memory-backend-memfd,id=ram1,size=512M,share=true",
            // HOST_DATA: the first 32 bytes of the digest, base64.
            "-object", "sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on,host-data=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "-bios", "/fw/OVMF-AmdSev.fd",
        ] + Self.tail("console=ttyS0 panic=-1 rdinit=/init coffer.tee=snp coffer.root=abc"))
    }

    @Test func tdxGolden() throws {
        let tdx = vm(.confidential(ConfidentialGuest(tee: .tdx, firmware: "/fw/OVMF.tdx.fd", initDataDigest: Self.digest)))
        #expect(try QEMUCommand.arguments(for: tdx) == [
            "-M", "q35,confidential-guest-support=tdx0,kernel-irqchip=split,smm=off,memory-backend=ram1",
            "-accel", "kvm", "-cpu", "host",
            "-object", "memory-backend-memfd,id=ram1,size=512M,share=true",
            // MRCONFIGID: all 48 bytes, base64.
            "-object", "tdx-guest,id=tdx0,mrconfigid=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v",
            "-bios", "/fw/OVMF.tdx.fd",
        ] + Self.tail("console=ttyS0 panic=-1 rdinit=/init coffer.tee=tdx coffer.root=abc"))
    }

    /// Without init-data the object carries no HOST_DATA / MRCONFIGID (the hardware reports zeros).
    @Test func withoutInitDataTheObjectBindsNothing() throws {
        let snp = try QEMUCommand.arguments(for: vm(.confidential(ConfidentialGuest(tee: .snp, firmware: "/fw"))))
        #expect(snp.contains("sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on"))
        let tdx = try QEMUCommand.arguments(for: vm(.confidential(ConfidentialGuest(tee: .tdx, firmware: "/fw"))))
        #expect(tdx.contains("tdx-guest,id=tdx0"))
    }

    /// The plain q35 shape: the same devices and kernel command line shape, no confidential object,
    /// no `coffer.tee`. Under TCG it carries TCG's kernel arguments, as microvm does.
    @Test func plainQ35Golden() throws {
        let plain = vm(.q35(firmware: nil), accelerator: .tcg)
        #expect(try QEMUCommand.arguments(for: plain) == [
            "-M", "q35", "-accel", "tcg", "-cpu", "max",
        ] + Self.tail("console=ttyS0 panic=-1 rdinit=/init tsc_early_khz=2596142 cryptomgr.notests coffer.root=abc"))
        let withOVMF = try QEMUCommand.arguments(for: vm(.q35(firmware: "/usr/share/ovmf/OVMF.fd"), accelerator: .tcg))
        #expect(Array(withOVMF.prefix(8)) == ["-M", "q35", "-accel", "tcg", "-cpu", "max", "-bios", "/usr/share/ovmf/OVMF.fd"])
        for arguments in [try QEMUCommand.arguments(for: plain), withOVMF] {
            #expect(!arguments.joined(separator: " ").contains("confidential-guest-support"))
            #expect(!arguments.joined(separator: " ").contains("coffer.tee"))
        }
    }

    /// The plain path is unchanged: a configuration written before the machine shapes (no
    /// `machine` key) decodes as microvm and gives the microvm command line.
    @Test func aSpecWithoutAMachineIsMicrovm() throws {
        var plain = vm(.microvm)
        plain.machine = nil
        let data = try JSONEncoder().encode(plain)
        #expect(!String(decoding: data, as: UTF8.self).contains("machine"))
        let decoded = try JSONDecoder().decode(VMConfiguration.self, from: data)
        #expect(decoded.shape == .microvm)
        #expect(try QEMUCommand.arguments(for: decoded).prefix(2) == ["-M", "microvm,x-option-roms=off"])
        #expect(try QEMUCommand.arguments(for: decoded).contains("virtio-blk-device,drive=disk0,serial=coffer-data"))
        // And a confidential one round-trips.
        let snp = vm(.confidential(ConfidentialGuest(tee: .snp, firmware: "/fw", initDataDigest: Self.digest)))
        #expect(try JSONDecoder().decode(VMConfiguration.self, from: JSONEncoder().encode(snp)) == snp)
    }

    /// The command line QEMU gets is the one function's (`kernelCommandLine`), and so are the
    /// kernel and initrd `directBoot` names: what a predictor hashes is what the launch passes.
    @Test func directBootIsWhatTheArgumentsPass() throws {
        let snp = vm(.confidential(ConfidentialGuest(tee: .snp, firmware: "/fw")))
        let boot = QEMUCommand.directBoot(for: snp)
        let arguments = try QEMUCommand.arguments(for: snp)
        func after(_ flag: String) -> String? { arguments.firstIndex(of: flag).map { arguments[$0 + 1] } }
        #expect(after("-kernel") == boot.kernel)
        #expect(after("-initrd") == boot.initrd)
        #expect(after("-append") == boot.commandLine)
        #expect(boot.commandLine == QEMUCommand.kernelCommandLine(for: snp))
    }

    @Test func aConfidentialGuestIsRefusedUnderTCGOrWithoutFirmware() {
        #expect(throws: VMMError.self) { try QEMUCommand.arguments(for: vm(.confidential(ConfidentialGuest(tee: .snp, firmware: "/fw")), accelerator: .tcg)) }
        #expect(throws: VMMError.self) { try QEMUCommand.arguments(for: vm(.confidential(ConfidentialGuest(tee: .tdx, firmware: "")))) }
        #expect(throws: VMMError.self) {
            try QEMUCommand.arguments(for: vm(.confidential(ConfidentialGuest(tee: .tdx, firmware: "/fw", initDataDigest: [1, 2, 3]))))
        }
    }
}

/// OVMF's footer table, read from a real AmdSev OVMF's last 4 KiB (shared/vectors/snp-measure).
@Suite struct OVMFFooterTableTests {
    static let vector = "/work/shared/vectors/snp-measure/ovmf_AmdSev_suffix.bin"

    @Test func theAmdSevOVMFCarriesTheKernelHashesTable() throws {
        let image = [UInt8](try #require(FileManager.default.contents(atPath: Self.vector), "missing \(Self.vector)"))
        let table = try OVMFFooterTable(image: image)
        #expect(table.contains(OVMFFooterTable.sevHashTableGUID))
        #expect(table.contains(OVMFFooterTable.sevMetadataGUID))
        #expect(table.contains(OVMFFooterTable.tdxMetadataGUID))
        // The hash table entry: its address and size in the firmware (0x810c00, 0x400), as
        // sev-snp-measure reads them.
        #expect(table.entry(OVMFFooterTable.sevHashTableGUID) == [0x00, 0x0c, 0x81, 0x00, 0x00, 0x04, 0x00, 0x00])
    }

    /// A file without the footer, or with lengths that do not fit, is no table: never a trap.
    @Test func malformedTablesAreRefused() throws {
        let image = [UInt8](try #require(FileManager.default.contents(atPath: Self.vector)))
        #expect(throws: LaunchDigestError.self) { try OVMFFooterTable(image: [UInt8](repeating: 0, count: 4096)) }
        #expect(throws: LaunchDigestError.self) { try OVMFFooterTable(image: Array(image.suffix(40))) }
        #expect(throws: LaunchDigestError.self) { try OVMFFooterTable(image: []) }
        let footer = image.count - 32 - 18
        for length in [UInt16(0), 17, 0xFFFF] {
            var bad = image
            bad[footer] = UInt8(length & 0xFF)
            bad[footer + 1] = UInt8(length >> 8)
            #expect(throws: LaunchDigestError.self, "footer length \(length)") { try OVMFFooterTable(image: bad) }
        }
        // An entry claiming more than the table holds.
        var bad = image
        bad[footer - 18] = 0xFF
        bad[footer - 17] = 0x7F
        #expect(throws: LaunchDigestError.self) { try OVMFFooterTable(image: bad) }
    }
}
