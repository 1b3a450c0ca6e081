import CofferCore
import CofferTestSupport
import CofferVMM
import Foundation
import Testing

/// What a TEE launch needs from the host, probed and refused with what is missing. The real
/// probe runs this machine's QEMU 7.2 and reads its sysfs; the rest run a FAKE QEMU at the seam (a
/// script answering `-version` and `-object help` as QEMU 10.1 would) and a fake sysfs tree.
@Suite struct ConfidentialHostTests {
    /// The AmdSev OVMF tail (its footer table has the SEV metadata, the kernel hashes table and TDX metadata).
    static let amdSevOVMF = OVMFFooterTableTests.vector

    /// A directory holding a fake QEMU, a fake sysfs and a bzImage stand-in with `config` beside it.
    struct FakeHost {
        let directory: TemporaryDirectory
        var qemu: String { directory.file("qemu-system-x86_64") }
        var root: String { directory.file("root") }
        let kernel: GuestKernel

        init(version: String = "10.1.0", objects: [String] = ["sev-guest", "sev-snp-guest", "tdx-guest"], kernelConfig: String? = "CONFIG_AMD_MEM_ENCRYPT=y\nCONFIG_INTEL_TDX_GUEST=y\n") throws {
            directory = try TemporaryDirectory("coffer-tee-host")
            let list = (["List of user creatable objects:"] + objects.map { "  \($0)" }).joined(separator: "\n")
            try directory.write("qemu-system-x86_64", """
                #!/bin/sh
                # A FAKE QEMU for the probe's tests: it answers -version and -object help, nothing else.
                case "$*" in
                  -version) echo "QEMU emulator version \(version) (fake)"; echo "Copyright (c) 2003-2025 Fabrice Bellard and the QEMU Project developers" ;;
                  "-object help") printf '%s\\n' "\(list)" ;;
                  *) exit 1 ;;
                esac
                """)
            chmod(directory.file("qemu-system-x86_64"), 0o755)
            try FileManager.default.createDirectory(atPath: directory.file("kernel"), withIntermediateDirectories: true)
            var header = [UInt8](repeating: 0, count: 0x400)
            header.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
            try Data(header).write(to: URL(fileURLWithPath: directory.file("kernel/vmlinuz")))
            if let kernelConfig { try directory.write("kernel/config", kernelConfig) }
            kernel = try GuestKernel.custom(image: directory.file("kernel/vmlinuz"), modules: nil)
        }

        func kvmParameter(_ tee: TEE, _ value: String) throws {
            let path = root + tee.kvmParameter
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("\(value)\n".utf8).write(to: URL(fileURLWithPath: path))
        }

        func probe(_ tee: TEE, firmware: String? = ConfidentialHostTests.amdSevOVMF, kvm: Bool = true) -> ConfidentialHost {
            ConfidentialHost.probe(tee, qemu: qemu, firmware: firmware, kernel: kernel, kvmUsable: kvm, root: root)
        }
    }

    @Test func aHostWithEverythingMissesNothing() throws {
        let host = try FakeHost()
        try host.kvmParameter(.snp, "Y")
        try host.kvmParameter(.tdx, "Y")
        let snp = host.probe(.snp)
        #expect(snp.qemuVersion == QEMUVersion(major: 10, minor: 1))
        #expect(snp.missing == [])
        #expect(host.probe(.tdx).missing == [])
    }

    /// This machine: Debian 12's QEMU 7.2 has neither object, no kvm_amd SNP parameter, no firmware.
    @Test func thisHostsQEMUIsRefusedWithItsVersionAndPath() throws {
        let qemu = try #require(VMSupervisor.qemuPath(), "qemu-system-x86_64 is not installed")
        let kernel = try GuestFixture.shared.kernel()
        let snp = ConfidentialHost.probe(.snp, qemu: nil, firmware: nil, kernel: kernel, root: "")
        let version = try #require(snp.qemuVersion)
        #expect(version < TEE.snp.minimumQEMU)
        #expect(snp.missing.first == "--tee snp needs QEMU >= 9.1 with sev-snp-guest (found \(version) at \(qemu)); give one with --qemu PATH")
        #expect(snp.missing.contains("--tee snp needs an AmdSev OVMF with SNP_KERNEL_HASHES (--firmware)"))
        let tdx = ConfidentialHost.probe(.tdx, qemu: nil, firmware: nil, kernel: kernel, root: "")
        #expect(tdx.missing.first == "--tee tdx needs QEMU >= 10.1 with tdx-guest (found \(version) at \(qemu)); give one with --qemu PATH")
        // Debian's 6.1 cloud kernel has no TDX guest support.
        #expect(tdx.missing.contains { $0.contains("CONFIG_INTEL_TDX_GUEST=y, which \(kernel.release) lacks (Debian's 6.1 cloud kernel cannot be a TDX guest)") })
    }

    @Test func eachMissingPieceIsNamed() throws {
        // QEMU new enough but built without the object; QEMU too old.
        let noObject = try FakeHost(objects: ["sev-guest"])
        try noObject.kvmParameter(.snp, "Y")
        #expect(noObject.probe(.snp).missing == [
            "--tee snp needs QEMU >= 9.1 with sev-snp-guest (found 10.1 at \(noObject.qemu), but its `-object help` does not list sev-snp-guest)"
        ])
        let old = try FakeHost(version: "9.0.2")
        try old.kvmParameter(.snp, "Y")
        #expect(old.probe(.snp).missing == ["--tee snp needs QEMU >= 9.1 with sev-snp-guest (found 9.0.2 at \(old.qemu)); give one with --qemu PATH"])
        #expect(old.probe(.snp, kvm: false).missing.last == "--tee snp needs KVM: /dev/kvm is absent or not accessible (a TEE guest cannot run under TCG)")

        // The host kernel: parameter absent, or off.
        let host = try FakeHost()
        #expect(host.probe(.snp).missing == [
            "host kernel does not offer SNP (/sys/module/kvm_amd/parameters/sev_snp is absent: needs Linux >= 6.11 with kvm_amd loaded with sev_snp=1 on an SNP-enabled EPYC)"
        ])
        try host.kvmParameter(.tdx, "N")
        #expect(host.probe(.tdx).missing == ["host kernel does not offer TDX (/sys/module/kvm_intel/parameters/tdx is N, not Y)"])

        // The firmware: none, one without a footer table, one without the kernel hashes table.
        try host.kvmParameter(.snp, "Y")
        #expect(host.probe(.snp, firmware: nil).missing == ["--tee snp needs an AmdSev OVMF with SNP_KERNEL_HASHES (--firmware)"])
        try host.directory.write("plain.fd", String(repeating: "\u{0}", count: 8192))
        #expect(host.probe(.snp, firmware: host.directory.file("plain.fd")).missing == [
            "--tee snp needs an AmdSev OVMF with SNP_KERNEL_HASHES (--firmware): \(host.directory.file("plain.fd")) cannot be read or has no OVMF footer table"
        ])
        var withoutHashes = [UInt8](try #require(FileManager.default.contents(atPath: Self.amdSevOVMF)))
        let hashGUID = OVMFFooterTable.sevHashTableGUID.bytes
        let at = try #require((0...(withoutHashes.count - 16)).first { Array(withoutHashes[$0..<($0 + 16)]) == hashGUID })
        withoutHashes[at] ^= 0xFF
        try Data(withoutHashes).write(to: URL(fileURLWithPath: host.directory.file("nohashes.fd")))
        #expect(host.probe(.snp, firmware: host.directory.file("nohashes.fd")).missing == [
            "--tee snp needs an AmdSev OVMF with SNP_KERNEL_HASHES (--firmware): \(host.directory.file("nohashes.fd")) has no kernel hashes table, so the kernel, initramfs and command line would not be measured"
        ])

        // The guest kernel: without the option, or without a config to show it.
        let noTDX = try FakeHost(kernelConfig: "CONFIG_AMD_MEM_ENCRYPT=y\n# CONFIG_INTEL_TDX_GUEST is not set\n")
        try noTDX.kvmParameter(.tdx, "Y")
        #expect(noTDX.probe(.tdx).missing == [
            "--tee tdx needs a guest kernel with CONFIG_INTEL_TDX_GUEST=y, which custom lacks (Debian's 6.1 cloud kernel cannot be a TDX guest): use Coffer's kernel (`coffer kernel build`) or Debian's 6.12 cloud kernel (--kernel)"
        ])
        let noConfig = try FakeHost(kernelConfig: nil)
        try noConfig.kvmParameter(.snp, "Y")
        #expect(noConfig.probe(.snp).missing == [
            "--tee snp needs a guest kernel with CONFIG_AMD_MEM_ENCRYPT=y; custom has no build configuration (`config`) beside it to show it"
        ])
    }

    @Test func qemuVersionsParse() {
        #expect(QEMUVersion(versionOutput: "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n") == QEMUVersion(major: 7, minor: 2, micro: 22))
        #expect(QEMUVersion(versionOutput: "QEMU emulator version 10.1.0\n") == QEMUVersion(major: 10, minor: 1))
        #expect(QEMUVersion(versionOutput: "QEMU emulator version 9.1") == QEMUVersion(major: 9, minor: 1))
        #expect(QEMUVersion(versionOutput: "something else") == nil)
        #expect(QEMUVersion(versionOutput: "QEMU emulator version x.y") == nil)
        #expect(QEMUVersion(major: 9, minor: 0, micro: 9) < TEE.snp.minimumQEMU)
        #expect(QEMUVersion(major: 10, minor: 0) < TEE.tdx.minimumQEMU)
    }
}
