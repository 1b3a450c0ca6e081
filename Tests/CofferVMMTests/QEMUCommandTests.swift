import CofferVMM
import Testing

@Suite struct QEMUCommandTests {
    let vm = VMConfiguration(
        kernel: "/k/vmlinuz", initramfs: "/r/initramfs.cpio", extraKernelArguments: ["coffer.root=abc"],
        memoryMiB: 512, cpus: 2, accelerator: .tcg, tscKilohertz: 2_596_142,
        agentSocket: "/r/a,b/agent.sock", consoleLog: "/r/console.log")

    @Test func tcgGolden() throws {
        #expect(try QEMUCommand.arguments(for: vm) == [
            "-M", "microvm,x-option-roms=off", "-accel", "tcg", "-cpu", "max",
            "-m", "512", "-smp", "2",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-kernel", "/k/vmlinuz", "-initrd", "/r/initramfs.cpio",
            "-append", "console=ttyS0 panic=-1 rdinit=/init tsc_early_khz=2596142 cryptomgr.notests coffer.root=abc",
            "-serial", "file:/r/console.log",
            "-device", "virtio-serial-device",
            "-chardev", "socket,id=agent,path=/r/a,,b/agent.sock",
            "-device", "virtserialport,chardev=agent,name=coffer.agent",
        ])
    }

    /// Published ports add QEMU's user network with one forward each, bound to 127.0.0.1 unless
    /// an address is given, and put the network's presence on the measured command line.
    @Test func publishedPortsAddAUserNetworkAndSayItOnTheCommandLine() throws {
        var published = vm
        published.ports = [try #require(PortMapping("8080:80")), try #require(PortMapping("0.0.0.0:5353:53/udp"))]
        let arguments = try QEMUCommand.arguments(for: published)
        #expect(Array(arguments.suffix(4)) == [
            "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:0.0.0.0:5353-:53",
            "-device", "virtio-net-device,netdev=net0",
        ])
        #expect(QEMUCommand.kernelCommandLine(for: published).hasSuffix("coffer.net=user coffer.root=abc"))
        #expect(!QEMUCommand.kernelCommandLine(for: vm).contains("coffer.net"))
        #expect(!(try QEMUCommand.arguments(for: vm)).contains("-netdev"))
        for bad in ["80", "0:80", "8080:0", "70000:80", "1.2.3:80:80", "a:80:80", "8080:80/sctp", "x:y", ""] {
            #expect(PortMapping(bad) == nil, "\(bad)")
        }
    }

    @Test func kvmUsesTheHostCPUAndNoTSCHint() throws {
        var kvm = vm
        kvm.accelerator = .kvm
        let arguments = try QEMUCommand.arguments(for: kvm)
        #expect(Array(arguments[2...5]) == ["-accel", "kvm", "-cpu", "host"])
        #expect(QEMUCommand.kernelCommandLine(for: kvm) == "console=ttyS0 panic=-1 rdinit=/init coffer.root=abc")
    }

    @Test func refusesWhatQEMUOrTheKernelCannotTake() {
        var bad = vm
        bad.agentSocket = "/" + String(repeating: "s", count: 120)
        #expect(throws: VMMError.self) { try QEMUCommand.arguments(for: bad) }
        bad = vm
        bad.memoryMiB = 16
        #expect(throws: VMMError.self) { try QEMUCommand.arguments(for: bad) }
        bad = vm
        bad.cpus = 0
        #expect(throws: VMMError.self) { try QEMUCommand.arguments(for: bad) }
    }
}

@Suite struct QEMUDiskTests {
    @Test func readOnlyDisksCarryTheirSerials() throws {
        let root = try VerityRootDisks(
            dataPath: "/i/rootfs.erofs", hashPath: "/i/a,b.verity", rootHash: String(repeating: "ab", count: 32),
            salt: "00ff", dataBlocks: 187)
        let vm = VMConfiguration(
            kernel: "/k", initramfs: "/r", extraKernelArguments: [root.kernelArgument], accelerator: .kvm,
            agentSocket: "/s", consoleLog: "/c", readOnlyDisks: root.disks)
        let arguments = try QEMUCommand.arguments(for: vm)
        #expect(Array(arguments.suffix(8)) == [
            "-drive", "file=/i/rootfs.erofs,format=raw,if=none,readonly=on,id=disk0",
            "-device", "virtio-blk-device,drive=disk0,serial=coffer-data",
            "-drive", "file=/i/a,,b.verity,format=raw,if=none,readonly=on,id=disk1",
            "-device", "virtio-blk-device,drive=disk1,serial=coffer-hash",
        ])
        #expect(QEMUCommand.kernelCommandLine(for: vm).hasSuffix(" coffer.verity=\(String(repeating: "ab", count: 32)),00ff,187"))
    }

    @Test func verityParametersTheAgentCannotUseAreRefusedOnTheHost() {
        let hash = String(repeating: "0", count: 64)
        #expect(throws: VMMError.self) { try VerityRootDisks(dataPath: "/d", hashPath: "/h", rootHash: "abc", salt: "", dataBlocks: 1) }
        #expect(throws: VMMError.self) { try VerityRootDisks(dataPath: "/d", hashPath: "/h", rootHash: hash, salt: "zz", dataBlocks: 1) }
        #expect(throws: VMMError.self) { try VerityRootDisks(dataPath: "/d", hashPath: "/h", rootHash: hash, salt: "", dataBlocks: 0) }
        #expect(throws: VMMError.self) {
            try VerityRootDisks(dataPath: "/d", hashPath: "/h", rootHash: hash, salt: "", dataBlocks: 1, dataBlockSize: 512)
        }
    }
}
