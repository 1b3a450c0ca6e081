import CofferCore
import CofferTestSupport
import CofferVMM
import CofferWire
import Foundation
import Testing

/// Real boots: Debian's cloud kernel, Coffer's initramfs and the static agent under QEMU.
@Suite(.serialized) struct BootTests {
    let fixture = GuestFixture.shared
    static let deadline = 60.0

    @Test func theAgentBootsChecksInAndPowersOff() throws {
        let kernel = try fixture.kernel()
        let initramfs = try Initramfs(agent: try fixture.agentBinary(), kernel: kernel)
        let directory = try TemporaryDirectory("coffer-vm")
        try initramfs.write(to: directory.file("initramfs.cpio"))
        let vm = fixture.configuration(kernel: kernel, initramfs: directory.file("initramfs.cpio"), in: directory)

        let report = try VMSupervisor().bootUntilPowerOff(vm, qemuLog: directory.file("qemu.log"), deadline: Self.deadline)

        #expect(report.ready.version == Ready.protocolVersion)
        #expect(Int(report.ready.modulesLoaded) == initramfs.modules.count)
        #expect(report.secondsToReady <= report.secondsToExit)
        let console = ConsoleLog.tail(vm.consoleLog, lines: 400)
        let agentLine = console.split(separator: "\n").first { $0.hasPrefix("coffer-agent: ready after") }
        #expect(agentLine != nil)
        print("""
            \(agentLine ?? "")
            boot (\(vm.accelerator.rawValue)): ready after \(report.secondsToReady) s host wall \
            (\(Double(report.ready.bootNanoseconds) / 1e9) s guest), powered off after \(report.secondsToExit) s; \
            initramfs \(initramfs.bytes.count) bytes \(initramfs.digestHex), modules \(initramfs.modules)
            """)
    }

    /// The TEE launch's machine shape without its confidential object: q35, SeaBIOS loading the
    /// kernel directly, and every device on virtio-pci (`iommu_platform=on`, as TDX and SNP
    /// guests need). The agent finds its channel and checks in, and the VM powers off: the device
    /// layout and the agent on PCI work here, under TCG and QEMU 7.2. Not confidential.
    @Test func theQ35PCIShapeBootsAndTheAgentChecksInOverPCI() throws {
        let kernel = try fixture.kernel()
        let initramfs = try Initramfs(agent: try fixture.agentBinary(), kernel: kernel)
        let directory = try TemporaryDirectory("coffer-vm")
        try initramfs.write(to: directory.file("initramfs.cpio"))
        var vm = fixture.configuration(kernel: kernel, initramfs: directory.file("initramfs.cpio"), in: directory)
        vm.machine = .q35(firmware: nil)
        #expect(try QEMUCommand.arguments(for: vm).contains("virtio-serial-pci,disable-legacy=on,iommu_platform=on"))

        let report = try VMSupervisor().bootUntilPowerOff(vm, qemuLog: directory.file("qemu.log"), deadline: Self.deadline)

        #expect(report.ready.version == Ready.protocolVersion)
        #expect(Int(report.ready.modulesLoaded) == initramfs.modules.count)
        let console = ConsoleLog.tail(vm.consoleLog, lines: 400)
        // The guest saw a PCI host bridge (q35's) and the agent's port on virtio-pci, not virtio-mmio.
        #expect(console.contains("PCI host bridge"), "\(console)")
        #expect(!console.contains("virtio-mmio"), "\(console)")
        print("q35 boot (\(vm.accelerator.rawValue)): ready after \(report.secondsToReady) s, powered off after \(report.secondsToExit) s")
    }

    /// An /init the kernel cannot execute: the kernel panics, QEMU exits, and the error quotes the
    /// console instead of waiting for the deadline.
    @Test func aNonExecutableInitFailsWithTheConsoleTail() throws {
        let kernel = try fixture.kernel()
        let agent = [UInt8](try #require(FileManager.default.contents(atPath: try fixture.agentBinary())))
        var archive = CPIOArchive()
        try archive.add("init", permissions: 0o644, .file(agent))
        try archive.add("dev/console", permissions: 0o600, .characterDevice(major: 5, minor: 1))
        let directory = try TemporaryDirectory("coffer-vm")
        try Data(archive.encoded()).write(to: URL(fileURLWithPath: directory.file("bogus.cpio")))
        let vm = fixture.configuration(kernel: kernel, initramfs: directory.file("bogus.cpio"), in: directory)

        let error = try #require(throws: VMMError.self) {
            try VMSupervisor().bootUntilPowerOff(vm, qemuLog: directory.file("qemu.log"), deadline: Self.deadline)
        }
        guard case .vmExited(_, let tail, _) = error else { throw TestFailure("expected the VM to exit, got \(error)") }
        #expect(tail.contains("Kernel panic"))
        #expect("\(error)".contains("before the guest checked in"))
    }

    /// A guest that never checks in (here an /init that prints a line and sleeps) is killed at the
    /// deadline, and the error quotes what it printed.
    @Test func aGuestThatNeverChecksInIsKilledAtTheDeadline() throws {
        let kernel = try fixture.kernel()
        let directory = try TemporaryDirectory("coffer-vm")
        try directory.write("hang.c", """
            #include <stdio.h>
            #include <unistd.h>
            int main(void) { printf("coffer-test: init is hanging\\n"); fflush(stdout); for (;;) pause(); }
            """)
        try sh("gcc -static -O2 -o hang hang.c", directory: directory.path)
        let program = [UInt8](try #require(FileManager.default.contents(atPath: directory.file("hang"))))
        let initramfs = try Initramfs(init: program, release: kernel.release, modules: [])
        try initramfs.write(to: directory.file("hang.cpio"))
        let vm = fixture.configuration(kernel: kernel, initramfs: directory.file("hang.cpio"), in: directory)

        let error = try #require(throws: VMMError.self) {
            try VMSupervisor().bootUntilPowerOff(vm, qemuLog: directory.file("qemu.log"), deadline: 20)
        }
        guard case .bootTimeout(_, let tail) = error else { throw TestFailure("expected a timeout, got \(error)") }
        #expect(tail.contains("coffer-test: init is hanging"))
        #expect("\(error)".contains("did not check in within 20.0 s"))
        // The socket is gone and QEMU with it: no process runs with this test's initramfs.
        #expect(!FileManager.default.fileExists(atPath: vm.agentSocket))
        let survivors = try run("pgrep", ["-f", directory.file("hang.cpio")])
        #expect(survivors.stdout.isEmpty, "QEMU outlived its deadline: pid \(survivors.stdout)")
    }
}
