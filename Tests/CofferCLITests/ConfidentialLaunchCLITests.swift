import CofferTestSupport
import Foundation
import Testing

/// `coffer run --tee` through the real executable on this host (no TDX, no SEV-SNP, Debian's QEMU
/// 7.2): refused with what is missing, and nothing started in its place. The TEE launch's machine
/// shape without its confidential object (the hidden `--x-machine q35`) boots here under TCG and
/// runs the workload: the device layout and the agent on virtio-pci work.
@Suite(.serialized) struct ConfidentialLaunchCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")
    let runs = RunCLITests()

    /// A static program's output and exit status over q35 + virtio-pci (disks by serial, the
    /// agent's port, the verity root), said to be a plain, not confidential, VM.
    @Test func theQ35ShapeRunsAWorkloadAndSaysItIsNotConfidential() throws {
        let home = try runs.storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        let program = try compile(RunCLITests.twoStreams, to: "two-streams", flags: ["-static"], in: work)
        _ = try build(home.path, ["--binary", "\(program):/two-streams", "-t", "two:latest"])

        let result = try coffer(home.path, ["run", "--x-machine", "q35", "--verbose", "two:latest", "x"])
        #expect(result.status == 7, "\(result.stderr)")
        #expect(result.stdout == "to stdout: 2 argument(s)\n")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("coffer: development mode: plain VM under ") == true, "\(result.stderr)")
        #expect(lines.first?.contains("(q35, virtio-pci), not confidential") == true, "\(result.stderr)")
        #expect(!result.stderr.contains("coffer.tee="))
        #expect(!result.stderr.contains("confidential launch"))
        let spec = try String(contentsOfFile: try #require(vmSpecs(home.path).first), encoding: .utf8)
        #expect(spec.contains("q35"), "\(spec)")
    }

    /// This host has none of what SEV-SNP needs: each missing piece is named, and no VM is
    /// created or started.
    @Test func teeSNPIsRefusedWithWhatItNeeds() throws {
        let home = try runs.storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        let program = try compile(Program.hello, to: "hello", flags: ["-static"], in: work)
        _ = try build(home.path, ["--binary", "\(program):/hello", "-t", "hello:1"])
        let qemu = try #require(["/usr/bin/qemu-system-x86_64"].first { FileManager.default.isExecutableFile(atPath: $0) })
        let version = try run(qemu, ["-version"]).stdout.split(separator: " ").dropFirst(3).first.map(String.init) ?? "?"

        let result = try coffer(home.path, ["run", "--tee", "snp", "hello:1"])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("AMD SEV-SNP cannot be had here, and Coffer does not start a VM that is not confidential in its place"), "\(result.stderr)")
        #expect(result.stderr.contains("--tee snp needs QEMU >= 9.1 with sev-snp-guest (found \(version) at \(qemu)); give one with --qemu PATH"), "\(result.stderr)")
        #expect(result.stderr.contains("--tee snp needs an AmdSev OVMF with SNP_KERNEL_HASHES (--firmware)"), "\(result.stderr)")
        #expect(result.stderr.contains("host kernel does not offer SNP (/sys/module/kvm_amd/parameters/sev_snp"), "\(result.stderr)")
        #expect(!result.stderr.contains("development mode"), "\(result.stderr)")
        #expect(try vmSpecs(home.path).isEmpty)
        #expect(try runs.processes(using: home.path).isEmpty)
    }

    /// With a FAKE QEMU 10.1 given as --qemu (a script answering -version and -object help: a
    /// seam) and the real AmdSev OVMF tail as firmware, the QEMU and firmware lines go, and what
    /// is left is the host kernel, and with Debian's 6.1 as --kernel the guest kernel (it cannot be a TDX guest).
    @Test func teeTDXWithANewerQEMUStillNeedsTheHostAndGuestKernels() throws {
        let home = try runs.storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        let program = try compile(Program.hello, to: "hello", flags: ["-static"], in: work)
        _ = try build(home.path, ["--binary", "\(program):/hello", "-t", "hello:1"])
        try work.write("qemu-10.1", """
            #!/bin/sh
            # FAKE QEMU 10.1 for the probe: it answers -version and -object help only, and fails for anything else.
            case "$*" in
              -version) echo "QEMU emulator version 10.1.0 (fake)" ;;
              "-object help") printf 'List of user creatable objects:\\n  sev-snp-guest\\n  tdx-guest\\n' ;;
              *) echo "fake QEMU: not a VM" >&2; exit 1 ;;
            esac
            """)
        chmod(work.file("qemu-10.1"), 0o755)

        let result = try coffer(home.path, [
            "run", "--tee", "tdx", "--qemu", work.file("qemu-10.1"), "--firmware", "/work/shared/vectors/snp-measure/ovmf_AmdSev_suffix.bin", "hello:1",
        ])
        #expect(result.status != 0)
        #expect(!result.stderr.contains("needs QEMU"), "\(result.stderr)")
        #expect(!result.stderr.contains("--firmware)"), "\(result.stderr)")
        #expect(result.stderr.contains("host kernel does not offer TDX (/sys/module/kvm_intel/parameters/tdx"), "\(result.stderr)")
        // Coffer's kernel, the default, can be a TDX guest (CONFIG_INTEL_TDX_GUEST, TSM_REPORTS).
        #expect(!result.stderr.contains("CONFIG_INTEL_TDX_GUEST"), "\(result.stderr)")
        // Debian 12's 6.1 cloud kernel cannot, and the refusal says so.
        let debian = try RunCLITests().storeWithKernel(debian: true)
        let release = try FileManager.default.destinationOfSymbolicLink(atPath: "\(VMHomes.debian)/kernel/default")
        let onDebian = try coffer(home.path, [
            "run", "--tee", "tdx", "--qemu", work.file("qemu-10.1"), "--firmware", "/work/shared/vectors/snp-measure/ovmf_AmdSev_suffix.bin",
            "--kernel", debian.file("kernel/\(release)/vmlinuz"), "hello:1",
        ])
        #expect(onDebian.status != 0)
        #expect(onDebian.stderr.contains("CONFIG_INTEL_TDX_GUEST=y, which 6.1."), "\(onDebian.stderr)")
        #expect(try vmSpecs(home.path).isEmpty)

        // Bad combinations are refused before any probe.
        for (arguments, message) in [
            (["--tee", "sgx"], "--tee must be tdx or snp, not sgx"),
            (["--tee", "snp", "--accel", "tcg"], "--tee snp runs only under KVM: drop --accel tcg"),
            (["--firmware", "/x"], "--firmware needs --tee tdx|snp"),
            (["--x-machine", "pc"], "--x-machine pc: only q35"),
        ] {
            let refused = try coffer(home.path, ["run"] + arguments + ["hello:1"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
    }

    func vmSpecs(_ home: String) throws -> [String] {
        let directory = "\(home)/vms"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.map { "\(directory)/\($0)/vm.json" }.filter { FileManager.default.fileExists(atPath: $0) }
    }
}
