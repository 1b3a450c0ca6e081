import Foundation

extension QEMUCommand {
    /// What QEMU loads for the guest before any of the guest's code runs. On a TDX or SEV-SNP launch
    /// these are what the firmware measures (SNP: `kernel-hashes=on` puts their SHA-256 in the
    /// firmware's hash table page, which the launch digest covers; TDX: TDVF extends RTMR1/RTMR2):
    /// a predictor (`coffer measure --tee`) must read them from here, as the launch does.
    public struct DirectBoot: Sendable, Equatable {
        /// The bzImage (`-kernel`).
        public var kernel: String
        /// The initramfs (`-initrd`).
        public var initrd: String
        /// The kernel command line (`-append`), from `kernelCommandLine(for:)`.
        public var commandLine: String
    }

    /// The kernel, initramfs and command line `arguments(for:)` passes for `vm`, for every shape.
    public static func directBoot(for vm: VMConfiguration) -> DirectBoot {
        DirectBoot(kernel: vm.kernel, initrd: vm.initramfs, commandLine: kernelCommandLine(for: vm))
    }

    /// The q35 machine of the TEE launch, without its confidential object.
    public static let pciMachine = "q35"

    /// The vCPU model of an SEV-SNP launch: the VMSA of every vCPU, and so the launch digest,
    /// depends on it (sev-snp-measure `--vcpu-type EPYC-v4`).
    public static let snpCPUModel = "EPYC-v4"
    /// SEV-SNP's C-bit position and the physical address bits it costs (EPYC Milan and Genoa: 51, 1).
    public static let snpCBitPosition = 51
    public static let snpReducedPhysicalBits = 1

    /// `-M`, the accelerator and CPU, and for q35 the firmware and the confidential object.
    static func machineArguments(for vm: VMConfiguration) throws(VMMError) -> [String] {
        switch vm.shape {
        case .microvm:
            return ["-M", machine] + accelerator(vm)
        case .q35(let firmware):
            if let firmware { try checkFirmware(firmware) }
            return ["-M", pciMachine] + accelerator(vm) + (firmware.map { ["-bios", $0] } ?? [])
        case .confidential(let guest):
            // A TEE guest runs only under KVM: refuse here too, so that no caller can build a
            // "confidential" command line QEMU would run in software without the hardware.
            guard vm.accelerator == .kvm else {
                throw .invalidConfiguration("a \(guest.tee.displayName) guest runs only under KVM, not \(vm.accelerator.rawValue)")
            }
            try checkFirmware(guest.firmware)
            if let digest = guest.initDataDigest, digest.count != 48 {
                throw .invalidConfiguration("the init-data digest bound in \(guest.tee.displayName) is 48 bytes (sha384), not \(digest.count)")
            }
            // The guest's RAM: a memfd QEMU shares with KVM for the pages the guest converts to
            // shared; private pages come from KVM's guest_memfd, which the host cannot read.
            let memory = "memory-backend-memfd,id=ram1,size=\(vm.memoryMiB)M,share=true"
            switch guest.tee {
            case .snp:
                // HOST_DATA is 32 bytes in the attestation report: the digest's first 32.
                let hostData = guest.initDataDigest.map { ",host-data=\(Data($0.prefix(32)).base64EncodedString())" } ?? ""
                return [
                    "-M", "\(pciMachine),confidential-guest-support=sev0,memory-backend=ram1",
                    "-accel", "kvm", "-cpu", snpCPUModel,
                    "-object", memory,
                    "-object", "sev-snp-guest,id=sev0,cbitpos=\(snpCBitPosition),reduced-phys-bits=\(snpReducedPhysicalBits),kernel-hashes=on\(hostData)",
                    "-bios", guest.firmware,
                ]
            case .tdx:
                // MRCONFIGID is 48 bytes in the TD report: the whole sha384 digest. TDX has no SMM and
                // needs the split IRQ chip (QEMU docs/system/i386/tdx.rst).
                let configID = guest.initDataDigest.map { ",mrconfigid=\(Data($0).base64EncodedString())" } ?? ""
                return [
                    "-M", "\(pciMachine),confidential-guest-support=tdx0,kernel-irqchip=split,smm=off,memory-backend=ram1",
                    "-accel", "kvm", "-cpu", "host",
                    "-object", memory,
                    "-object", "tdx-guest,id=tdx0\(configID)",
                    "-bios", guest.firmware,
                ]
            }
        }
    }

    private static func accelerator(_ vm: VMConfiguration) -> [String] {
        switch vm.accelerator {
        case .kvm: ["-accel", "kvm", "-cpu", "host"]
        // `max` under TCG offers RDRAND, which this kernel trusts (RANDOM_TRUST_CPU): its random
        // pool is ready at boot instead of about a second later, and the Swift runtime's first
        // getrandom(2) before `main` no longer blocks until then.
        case .tcg: ["-accel", "tcg", "-cpu", "max"]
        }
    }

    /// `-bios` takes a file name, not a `key=value` option: it only must not be empty.
    private static func checkFirmware(_ path: String) throws(VMMError) {
        guard !path.isEmpty else { throw .invalidConfiguration("the firmware path is empty") }
    }
}
