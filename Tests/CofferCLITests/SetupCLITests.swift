import CofferTestSupport
import Foundation
import Testing

/// `coffer setup` through the real executable, against the real Debian mirror.
@Suite struct SetupCLITests {
    let coffer = Repository.executable("coffer")
    /// The same cache the VM tests use, so the kernel is built once per checkout.
    let home = VMHomes.coffer

    @Test func versionIsPrinted() throws {
        let result = try run(coffer, ["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "0.1.0-dev\n")
    }

    /// The default: Coffer's own kernel (decision 0040), built on the first setup of a checkout
    /// (the other VM tests share it) and cached by source version and fragment.
    @Test func setupReportsTheKernelTheAcceleratorAndQEMUAndIsIdempotent() throws {
        let first = try run(coffer, ["setup", "--home", home])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try run(coffer, ["setup", "--home", home])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("already cached"))
        #expect(second.stderr.isEmpty, "\(second.stderr)")
        let kernelLine = try #require(second.stdout.split(separator: "\n").first { $0.hasPrefix("kernel ") })
        #expect(kernelLine.contains("coffer-6.12.") && kernelLine.contains("(Coffer's, linux-source-6.12 "), "\(kernelLine)")
        #expect(second.stdout.contains("modules     none (everything built in)"))
        let vmlinuz = try #require(second.stdout.split(separator: "\n").first { $0.hasPrefix("vmlinuz") })
        let path = String(vmlinuz.split(separator: " ").last ?? "")
        #expect(FileManager.default.fileExists(atPath: path))
        // It is the default the launches boot.
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "\(home)/kernel/default")
        #expect(path.hasSuffix("/\(link)/vmlinuz"), "\(link) \(path)")
        #expect(second.stdout.contains("qemu        /"))
        if FileManager.default.fileExists(atPath: "/sys/module/kvm_pvm") {
            #expect(second.stdout.contains("accelerator tcg: /dev/kvm is PVM nested KVM"))
        }
    }

    /// `--kernel-package`: a Debian kernel package with its modules, made the default of its home.
    @Test func aDebianKernelPackageIsTheOtherChoice() throws {
        let debian = VMHomes.debian
        let first = try run(coffer, ["setup", "--home", debian, "--kernel-package", VMHomes.debianPackage])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try run(coffer, ["setup", "--home", debian, "--kernel-package", VMHomes.debianPackage])
        #expect(second.status == 0 && second.stdout.contains("already cached"), "\(second.stderr)")
        let kernelLine = try #require(second.stdout.split(separator: "\n").first { $0.hasPrefix("kernel ") })
        #expect(kernelLine.contains("-cloud-amd64 (linux-image-"))
        let modules = try #require(second.stdout.split(separator: "\n").first { $0.hasPrefix("modules") })
        #expect(FileManager.default.fileExists(atPath: "\(modules.split(separator: " ").last ?? "")/modules.builtin"))
    }

    @Test func anUnknownPackageFailsWithOneActionableLine() throws {
        let scratch = try TemporaryDirectory("coffer-home")
        let result = try run(coffer, ["setup", "--home", scratch.path, "--kernel-package", "linux-image-nonexistent-amd64"])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("coffer: "))
        #expect(result.stderr.contains("apt-get update"))
    }
}
