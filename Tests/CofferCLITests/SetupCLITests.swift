import CofferTestSupport
import Foundation
import Testing

/// `coffer setup` through the real executable, against the real Debian mirror.
@Suite struct SetupCLITests {
    let coffer = Repository.executable("coffer")
    /// The same cache the VM tests use, so the kernel is downloaded once per checkout.
    let home = "\(Repository.root())/.build-vm/home"

    @Test func versionIsPrinted() throws {
        let result = try run(coffer, ["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "0.1.0-dev\n")
    }

    @Test func setupReportsTheKernelTheAcceleratorAndQEMUAndIsIdempotent() throws {
        let first = try run(coffer, ["setup", "--home", home])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try run(coffer, ["setup", "--home", home])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("already cached"))
        let kernelLine = try #require(second.stdout.split(separator: "\n").first { $0.hasPrefix("kernel ") })
        #expect(kernelLine.contains("-cloud-amd64 (linux-image-"))
        let vmlinuz = try #require(second.stdout.split(separator: "\n").first { $0.hasPrefix("vmlinuz") })
        #expect(FileManager.default.fileExists(atPath: String(vmlinuz.split(separator: " ").last ?? "")))
        #expect(second.stdout.contains("qemu        /"))
        if FileManager.default.fileExists(atPath: "/sys/module/kvm_pvm") {
            #expect(second.stdout.contains("accelerator tcg: /dev/kvm is PVM nested KVM"))
        }
    }

    @Test func anUnknownPackageFailsWithOneActionableLine() throws {
        let scratch = try TemporaryDirectory("coffer-home")
        let result = try run(coffer, ["setup", "--home", scratch.path, "--kernel-package", "linux-image-nonexistent-amd64"])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("coffer: "))
        #expect(result.stderr.contains("apt-get update"))
    }
}
