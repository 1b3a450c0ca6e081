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
        #expect(console.contains("coffer-agent: ready after"))
        print("""
            boot (\(vm.accelerator.rawValue)): ready after \(report.secondsToReady) s host wall \
            (\(Double(report.ready.bootNanoseconds) / 1e9) s guest), powered off after \(report.secondsToExit) s; \
            initramfs \(initramfs.bytes.count) bytes \(initramfs.digestHex), modules \(initramfs.modules)
            """)
    }
}
