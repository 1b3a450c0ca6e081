import CofferCore
import CofferTestSupport
import CofferVMM
import Foundation
import Testing

@Suite struct LaunchMeasurementTests {
    let fixture = GuestFixture.shared

    /// The measurement follows every input: the real kernel, the real initramfs, the command line.
    @Test func changingTheKernelTheInitramfsOrTheCommandLineChangesIt() throws {
        let kernel = try fixture.kernel()
        let directory = try TemporaryDirectory("coffer-launch")
        let initramfs = try Initramfs(agent: try fixture.agentBinary(), kernel: kernel)
        let vm = fixture.configuration(kernel: kernel, initramfs: directory.file("i.cpio"), in: directory)
        let base = try LaunchMeasurement(vm: vm, initramfs: initramfs)
        #expect(try LaunchMeasurement(vm: vm, initramfs: initramfs) == base)
        #expect(base.commandLine == QEMUCommand.kernelCommandLine(for: vm))

        var otherLine = vm
        otherLine.extraKernelArguments = ["coffer.root=00"]
        #expect(try LaunchMeasurement(vm: otherLine, initramfs: initramfs).digest != base.digest)

        let lessModules = try Initramfs(agent: try fixture.agentBinary(), kernel: kernel, modules: ["virtio_mmio", "virtio_console"])
        #expect(try LaunchMeasurement(vm: vm, initramfs: lessModules).digest != base.digest)

        var kernelBytes = [UInt8](try #require(FileManager.default.contents(atPath: kernel.vmlinuz)))
        kernelBytes[kernelBytes.count / 2] ^= 0x01
        try Data(kernelBytes).write(to: URL(fileURLWithPath: directory.file("vmlinuz")))
        var otherKernel = vm
        otherKernel.kernel = directory.file("vmlinuz")
        #expect(try LaunchMeasurement(vm: otherKernel, initramfs: initramfs).digest != base.digest)
    }

    /// Digests of any other size would let bytes slide between fields; they are refused.
    @Test func onlySHA256DigestsAreAccepted() throws {
        let zero = [UInt8](repeating: 0, count: 32)
        #expect(throws: VMMError.self) { try LaunchMeasurement(kernelDigest: [1], initramfsDigest: zero + [3], commandLine: "x") }
        #expect(throws: VMMError.self) { try LaunchMeasurement(kernelDigest: zero, initramfsDigest: [], commandLine: "x") }
        let a = try LaunchMeasurement(kernelDigest: zero, initramfsDigest: zero, commandLine: "x")
        let b = try LaunchMeasurement(kernelDigest: zero, initramfsDigest: zero, commandLine: "x ")
        #expect(a.digest != b.digest)
        #expect(a.digestHex.hasPrefix("sha256:") && a.digestHex.count == 7 + 64)
    }

    /// Golden: SHA-256 of "coffer-launch-v1\0" | kernel digest | initramfs digest | BE32 length |
    /// command line, computed independently with python3 hashlib; an encoding change fails here.
    @Test func theEncodingIsPinned() throws {
        let measurement = try LaunchMeasurement(
            kernelDigest: [UInt8](repeating: 0, count: 32), initramfsDigest: [UInt8](repeating: 1, count: 32), commandLine: "console=ttyS0 panic=-1")
        #expect(Hex.encode(measurement.digest) == "7bb1c65a4862cfa27101fa3cd6346e83b6bb4d5946f9c1958e6ddb283c4b37f9")
    }
}
