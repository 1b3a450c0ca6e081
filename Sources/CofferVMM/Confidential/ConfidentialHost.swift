import Foundation

/// What a TDX or SEV-SNP launch needs from this host, gathered once: the QEMU (its version and
/// whether it lists the confidential object), KVM's module parameter, the firmware's metadata and
/// the guest kernel's configuration. `missing` turns the facts into what is not there, so that a
/// TEE that cannot be had is refused with what it needs instead of booting a VM that is not
/// confidential.
public struct ConfidentialHost: Sendable, Equatable {
    public var tee: TEE
    /// The QEMU binary, nil when none was found.
    public var qemu: String?
    public var qemuVersion: QEMUVersion?
    /// The objects `-object help` lists.
    public var qemuObjects: Set<String>
    /// /dev/kvm can be opened read-write.
    public var kvmUsable: Bool
    /// The content of `tee.kvmParameter`, trimmed; nil when the file is absent (module not loaded,
    /// or a kernel without the TEE).
    public var kvmParameter: String?
    /// `--firmware`, nil when none was given.
    public var firmware: String?
    /// The firmware's OVMF footer table; nil when the file is unreadable or has none.
    public var firmwareTable: OVMFFooterTable?
    /// The guest kernel's release and its build configuration (nil: no `config` beside it).
    public var guestKernel: String
    public var guestKernelConfig: [String: String]?

    public init(
        tee: TEE, qemu: String?, qemuVersion: QEMUVersion?, qemuObjects: Set<String>, kvmUsable: Bool, kvmParameter: String?,
        firmware: String?, firmwareTable: OVMFFooterTable?, guestKernel: String, guestKernelConfig: [String: String]?
    ) {
        self.tee = tee
        self.qemu = qemu
        self.qemuVersion = qemuVersion
        self.qemuObjects = qemuObjects
        self.kvmUsable = kvmUsable
        self.kvmParameter = kvmParameter
        self.firmware = firmware
        self.firmwareTable = firmwareTable
        self.guestKernel = guestKernel
        self.guestKernelConfig = guestKernelConfig
    }

    /// Probes this host for `tee`: `qemu` (nil: qemu-system-x86_64 on PATH) is run with `-version`
    /// and `-object help`; sysfs is read under `root` ("" on a real host, a fake tree in tests).
    public static func probe(
        _ tee: TEE, qemu: String?, firmware: String?, kernel: GuestKernel, kvmUsable: Bool = HostFacts.probe().kvmUsable, root: String = ""
    ) -> ConfidentialHost {
        let executable = qemu ?? VMSupervisor.qemuPath()
        var version: QEMUVersion?
        var objects: Set<String> = []
        if let executable {
            version = (try? HostTool.run(executable, ["-version"], package: QEMUCommand.package)).flatMap(QEMUVersion.init(versionOutput:))
            let listed = (try? HostTool.run(executable, ["-object", "help"], package: QEMUCommand.package)) ?? ""
            objects = Set(listed.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        let parameter = (try? String(contentsOfFile: root + tee.kvmParameter, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let table = firmware.flatMap { FileManager.default.contents(atPath: $0) }.flatMap { try? OVMFFooterTable(image: [UInt8]($0)) }
        let configPath = "\((kernel.vmlinuz as NSString).deletingLastPathComponent)/config"
        let config = (try? String(contentsOfFile: configPath, encoding: .utf8)).map(GuestKernelBuild.options)
        return ConfidentialHost(
            tee: tee, qemu: executable, qemuVersion: version, qemuObjects: objects, kvmUsable: kvmUsable, kvmParameter: parameter,
            firmware: firmware, firmwareTable: table, guestKernel: kernel.release, guestKernelConfig: config)
    }

    /// What the launch lacks, one sentence each naming the thing and how to get it; empty when a
    /// confidential launch can be attempted.
    public var missing: [String] {
        var missing: [String] = []
        let flag = "--tee \(tee.rawValue)"
        let wanted = "QEMU >= \(tee.minimumQEMU) with \(tee.qemuObject)"
        if let qemu {
            if let version = qemuVersion, version >= tee.minimumQEMU {
                if !qemuObjects.contains(tee.qemuObject) {
                    missing.append("\(flag) needs \(wanted) (found \(version) at \(qemu), but its `-object help` does not list \(tee.qemuObject))")
                }
            } else {
                let found = qemuVersion.map { "found \($0) at \(qemu)" } ?? "\(qemu) does not say its version with -version"
                missing.append("\(flag) needs \(wanted) (\(found)); give one with --qemu PATH")
            }
        } else {
            missing.append("\(flag) needs \(wanted) (none found: install one and give it with --qemu PATH)")
        }
        if !kvmUsable { missing.append("\(flag) needs KVM: /dev/kvm is absent or not accessible (a TEE guest cannot run under TCG)") }
        switch kvmParameter {
        case "Y", "y", "1": break
        case nil:
            missing.append(
                "host kernel does not offer \(tee.rawValue.uppercased()) (\(tee.kvmParameter) is absent: needs Linux >= \(tee.minimumHostKernel) "
                    + "with \(tee == .tdx ? "kvm_intel loaded with tdx=1 on a TDX-enabled Xeon" : "kvm_amd loaded with sev_snp=1 on an SNP-enabled EPYC"))")
        case let value?:
            missing.append("host kernel does not offer \(tee.rawValue.uppercased()) (\(tee.kvmParameter) is \(value), not Y)")
        }
        missing += firmwareMissing(flag)
        switch guestKernelConfig?[tee.guestKernelOption] {
        case "y": break
        case nil where guestKernelConfig == nil:
            missing.append(
                "\(flag) needs a guest kernel with \(tee.guestKernelOption)=y; \(guestKernel) has no build configuration (`config`) beside it to show it")
        default:
            missing.append(
                "\(flag) needs a guest kernel with \(tee.guestKernelOption)=y, which \(guestKernel) lacks"
                    + (tee == .tdx ? " (Debian's 6.1 cloud kernel cannot be a TDX guest)" : "")
                    + ": use Coffer's kernel (`coffer kernel build`) or Debian's 6.12 cloud kernel (--kernel)")
        }
        return missing
    }

    private func firmwareMissing(_ flag: String) -> [String] {
        let needed = tee == .tdx ? "a TDVF (OVMF with TDX metadata)" : "an AmdSev OVMF with SNP_KERNEL_HASHES"
        guard let firmware else { return ["\(flag) needs \(needed) (--firmware)"] }
        guard let table = firmwareTable else {
            return ["\(flag) needs \(needed) (--firmware): \(firmware) cannot be read or has no OVMF footer table"]
        }
        switch tee {
        case .tdx:
            if !table.contains(OVMFFooterTable.tdxMetadataGUID) { return ["\(flag) needs \(needed) (--firmware): \(firmware) has no TDX metadata"] }
        case .snp:
            if !table.contains(OVMFFooterTable.sevMetadataGUID) { return ["\(flag) needs \(needed) (--firmware): \(firmware) has no SEV metadata"] }
            if !table.contains(OVMFFooterTable.sevHashTableGUID) {
                return ["\(flag) needs \(needed) (--firmware): \(firmware) has no kernel hashes table, so the kernel, initramfs and command line would not be measured"]
            }
        }
        return []
    }
}
