import ArgumentParser
import CofferCore
import CofferVMM
import Crypto
import Foundation

/// `coffer measure --tee snp`'s inputs for the SEV-SNP launch digest: the firmware, the vCPUs and
/// the guest features; without IMAGE also the kernel (`--kernel`, shared with the image mode's
/// own option), initrd and command line that QEMU boots directly and hashes into the firmware.
struct SNPLaunchOptions: ParsableArguments {
    @Option(help: "SEV-SNP: the AmdSev OVMF the launch boots with -bios (required for --tee snp: Debian packages none).")
    var firmware: String?
    @Option(help: "SEV-SNP without IMAGE: the initrd QEMU boots with --kernel (none: hashed as no bytes).") var initrd: String?
    @Option(help: "SEV-SNP without IMAGE: the kernel command line QEMU passes with --kernel.") var append: String?
    @Option(help: "SEV-SNP: virtual CPUs, as the launch's (run --cpus).") var vcpus = 1
    @Option(help: "SEV-SNP: the QEMU -cpu model (EPYC-v4, EPYC-Milan, EPYC-Genoa, ...).") var vcpuType = "EPYC-v4"
    @Option(help: "SEV-SNP: the VMSA SEV_FEATURES in hex (0x1 SNPActive; add 0x20 where KVM enables DebugSwap).")
    var guestFeatures = "0x1"

    /// Whether any option of the explicit (no IMAGE) mode was given.
    var namesDirectBoot: Bool { initrd != nil || append != nil }

    /// The SEV-SNP MEASUREMENT of a launch of `firmware` booting `kernel` (nil: no direct boot)
    /// with `initrd` and `commandLine`, hashed with swift-crypto.
    func prediction(kernel: String?, initrd: String?, commandLine: String?) throws -> SNPPrediction {
        guard let firmware else {
            throw CofferError(.invalidInput, "--tee snp needs --firmware OVMF: the AmdSev OVMF (OvmfPkg/AmdSev/AmdSevX64.dsc) the launch boots; "
                + "the SEV-SNP measurement covers it, and Debian packages none with SNP kernel hashes")
        }
        guard kernel != nil || (initrd == nil && commandLine == nil) else {
            throw CofferError(.invalidInput, "--initrd and --append need --kernel: without a directly booted kernel there is nothing to pass them to")
        }
        guard let features = UInt64(guestFeatures.hasPrefix("0x") ? String(guestFeatures.dropFirst(2)) : guestFeatures, radix: 16) else {
            throw CofferError(.invalidInput, "--guest-features \(guestFeatures.prefix(24)): expected hex, like 0x1 or 0x21")
        }
        let sha256: ([UInt8]) -> [UInt8] = { Array(SHA256.hash(data: $0)) }
        let hashes = try kernel.map { path in
            try SNPKernelHashes(
                kernelDigest: sha256(try Self.read(path, "kernel")), initrdDigest: try initrd.map { sha256(try Self.read($0, "initrd")) },
                commandLine: commandLine ?? "", sha256: sha256)
        }
        let launch = SNPLaunch(
            firmware: try Self.read(firmware, "firmware"), kernelHashes: hashes, vcpus: vcpus, vcpuType: try SNPVCPUType(named: vcpuType),
            guestFeatures: features)
        let measurement = try launch.measurement { Array(SHA384.hash(data: $0)) }
        return SNPPrediction(
            measurement: Hex.encode(measurement), firmware: firmware, vcpus: vcpus, vcpuType: vcpuType, guestFeatures: "0x" + String(features, radix: 16),
            kernel: hashes.map { "sha256:" + Hex.encode($0.kernelDigest) }, initrd: hashes.map { "sha256:" + Hex.encode($0.initrdDigest) },
            commandLine: kernel == nil ? nil : commandLine ?? "", kernelFile: kernel, initrdFile: kernel == nil ? nil : initrd)
    }

    static func read(_ path: String, _ what: String) throws -> [UInt8] {
        // Through a file handle, not Data(contentsOf:): /dev/null (no initrd) is a device, not a file.
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CofferError(.notFound, "--\(what) \(path): cannot be opened") }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.readToEnd() ?? Data())
        } catch {
            throw CofferError(.system, "--\(what) \(path): cannot be read (\(error.localizedDescription))")
        }
    }
}

/// The SEV-SNP MEASUREMENT of a launch and the inputs it covers, as `coffer measure` prints them.
struct SNPPrediction: Encodable {
    /// Lower-case hex of the 48-byte launch digest, as the attestation report's `measurement` claim.
    var measurement: String
    var firmware: String
    var vcpus: Int
    var vcpuType: String
    var guestFeatures: String
    /// `sha256:` digests of the directly booted kernel and initrd (nil: no direct boot).
    var kernel: String?
    var initrd: String?
    var commandLine: String?
    /// The files hashed, so an owner can recompute the value with another tool.
    var kernelFile: String?
    var initrdFile: String?

    var textLines: [String] {
        var lines = [
            "snp measurement     \(measurement)",
            "  firmware          \(firmware)",
            "  vcpus             \(vcpus) x \(vcpuType), guest features \(guestFeatures)",
        ]
        if let kernel, let initrd {
            lines += ["  kernel            \(kernel)", "  initrd            \(initrd)", "  cmdline           \(commandLine ?? "")"]
        } else {
            lines.append("  kernel            none (no direct boot: the kernel-hashes page is measured as zeros)")
        }
        return lines
    }
}
