import CofferCore

/// What an SEV-SNP launch by QEMU measures, predicted offline: the AMD SEV firmware's launch
/// digest (`SNPLaunchDigest`) over, in QEMU's order,
/// 1. the firmware image as normal pages, mapped to end at 4 GiB;
/// 2. each SEV metadata section of the firmware, in its order (`SEVMetadata`): SNP_SEC_MEM and
///    SVSM_CAA as zero pages, SNP_SECRETS as the secrets page, CPUID as the CPUID page, and
///    SNP_KERNEL_HASHES as the page holding `SNPKernelHashes` (a normal page) when a kernel is
///    booted directly, else as zero pages;
/// 3. one VMSA page per vCPU (`SNPVMSA`), the bootstrap processor first.
/// The result is the 48-byte MEASUREMENT of the guest's attestation reports.
public struct SNPLaunch: Sendable {
    /// The launch's firmware image, as passed with `-bios` (an AmdSev OVMF for direct boot).
    public var firmware: [UInt8]
    /// The direct-boot hashes (`kernel-hashes=on`), or nil for a launch without `-kernel`.
    public var kernelHashes: SNPKernelHashes?
    public var vcpus: Int
    public var vcpuType: SNPVCPUType
    /// The VMSA's SEV_FEATURES (ABI specification, SEV_FEATURES): bit 0 SNPActive is required;
    /// KVM adds DebugSwap (bit 5, 0x20) when the host supports it, which the owner must include.
    public var guestFeatures: UInt64

    /// What sev-snp-measure assumes and QEMU sets without a kernel-side extra: SNPActive only.
    public static let defaultGuestFeatures: UInt64 = 0x1
    public static let maximumVCPUs = 1024
    static let fourGiB: UInt64 = 0x1_0000_0000

    public init(firmware: [UInt8], kernelHashes: SNPKernelHashes?, vcpus: Int, vcpuType: SNPVCPUType, guestFeatures: UInt64 = defaultGuestFeatures) {
        self.firmware = firmware
        self.kernelHashes = kernelHashes
        self.vcpus = vcpus
        self.vcpuType = vcpuType
        self.guestFeatures = guestFeatures
    }

    /// The MEASUREMENT this launch will report, or why it cannot be predicted (the firmware lacks
    /// what the launch needs, or an input is out of range). `sha384` as for `SNPLaunchDigest`.
    public func measurement(sha384: @escaping @Sendable ([UInt8]) -> [UInt8] = { SHA512Digest.hash384($0) }) throws(LaunchDigestError) -> [UInt8] {
        guard (1...Self.maximumVCPUs).contains(vcpus) else { throw .input("--vcpus \(vcpus): expected 1 to \(Self.maximumVCPUs)") }
        guard guestFeatures & 1 == 1 else {
            throw .input("guest features 0x\(String(guestFeatures, radix: 16)) lack SNPActive (bit 0): every SEV-SNP guest has it")
        }
        guard !firmware.isEmpty, firmware.count % SNPLaunchDigest.pageSize == 0, UInt64(firmware.count) < Self.fourGiB else {
            throw .firmware("the image is \(firmware.count) bytes: an OVMF image is a non-empty whole number of 4 KiB pages below 4 GiB (truncated?)")
        }
        let table = try OVMFFooterTable(image: firmware)
        let metadata = try SEVMetadata(image: firmware, table: table)
        let apResetEIP = try table.uint32(OVMFFooterTable.sevESResetBlockGUID, "SEV-ES AP reset block")
        let hashesPage = try kernelHashes.map { hashes throws(LaunchDigestError) in try Self.kernelHashesPage(hashes, table: table, metadata: metadata) }

        var digest = SNPLaunchDigest(sha384: sha384)
        digest.addNormalPages(firmware[...], at: Self.fourGiB - UInt64(firmware.count))
        for section in metadata.sections {
            switch section.type {
            case .snpSecMem, .svsmCAA: digest.addPages(.zero, at: section.gpa, length: section.length)
            case .snpSecrets, .cpuid:
                // The firmware fills these pages itself; one page each is what OVMF declares and
                // what is predicted, so a larger section is refused rather than guessed at.
                guard section.length == UInt64(SNPLaunchDigest.pageSize) else {
                    throw .firmware("the \(section.type) section is \(section.length) bytes; only one page is supported")
                }
                digest.addPages(section.type == .cpuid ? .cpuid : .secrets, at: section.gpa, length: section.length)
            case .snpKernelHashes:
                if let hashesPage {
                    digest.addNormalPages(hashesPage[...], at: section.gpa)
                } else {
                    digest.addPages(.zero, at: section.gpa, length: section.length)
                }
            }
        }
        for index in 0..<vcpus {
            digest.addVMSA(SNPVMSA.page(eip: index == 0 ? SNPVMSA.bspResetEIP : apResetEIP, vcpu: vcpuType, sevFeatures: guestFeatures))
        }
        return digest.digest
    }

    /// The SNP_KERNEL_HASHES page, where QEMU writes the table: at the footer table's hash-table
    /// GPA, which must lie in that section's single page.
    ///
    /// Security: OVMF checks the kernel, initrd and command line it loads against this page, so a
    /// firmware without it would boot whatever the host passes, unmeasured; it is refused.
    static func kernelHashesPage(_ hashes: SNPKernelHashes, table: OVMFFooterTable, metadata: SEVMetadata) throws(LaunchDigestError) -> [UInt8] {
        guard let section = metadata.sections.first(where: { $0.type == .snpKernelHashes }) else {
            throw .firmware("the firmware has no SNP_KERNEL_HASHES section: it cannot verify a directly booted kernel "
                + "(use an AmdSev OVMF build, OvmfPkg/AmdSev/AmdSevX64.dsc)")
        }
        let gpa = UInt64(try table.uint32(OVMFFooterTable.sevHashTableGUID, "SEV hash table"))
        let size = try table.uint32(OVMFFooterTable.sevHashTableGUID, at: 4, "SEV hash table size")
        guard section.length == UInt64(SNPLaunchDigest.pageSize), gpa & ~0xfff == section.gpa else {
            throw .firmware("the SEV hash table at 0x\(String(gpa, radix: 16)) is not in the one-page SNP_KERNEL_HASHES section at 0x\(String(section.gpa, radix: 16))")
        }
        guard Int(size) >= SNPKernelHashes.paddedSize else {
            throw .firmware("the SEV hash table area is \(size) bytes, smaller than the \(SNPKernelHashes.paddedSize)-byte table")
        }
        return try hashes.page(tableOffset: Int(gpa & 0xfff))
    }
}
