/// The machine QEMU emulates for a VM. Everything else (the agent channel, the disks by serial,
/// the volumes, the deadlines, the monitor) is the same for every shape; only the machine, the
/// firmware and the virtio transport differ (`QEMUCommand`).
public enum Machine: Sendable, Equatable, Codable {
    /// `-M microvm` with qboot and virtio-mmio: the plain development VM. Never confidential.
    case microvm
    /// q35 with virtio-pci, `firmware` as `-bios` (nil: QEMU's SeaBIOS), WITHOUT a confidential
    /// object: the TEE launch's device layout, bootable here under TCG. Development only (a
    /// hidden `coffer run` option and the tests); never presented as confidential.
    case q35(firmware: String?)
    /// q35 with virtio-pci and a TDX or SEV-SNP confidential-guest object: the hardware measures
    /// the firmware and (through it) the kernel, initramfs and command line.
    case confidential(ConfidentialGuest)

    /// Whether the guest's devices are on virtio-pci (q35) rather than virtio-mmio (microvm).
    public var usesPCI: Bool {
        if case .microvm = self { return false }
        return true
    }

    /// The confidential object's parameters, nil for a plain VM.
    public var confidentialGuest: ConfidentialGuest? {
        if case .confidential(let guest) = self { return guest }
        return nil
    }
}

/// A TDX or SEV-SNP launch's parameters beyond the plain VM's.
public struct ConfidentialGuest: Sendable, Equatable, Codable {
    public var tee: TEE
    /// TDVF/OVMF for TDX; an AmdSev OVMF with SNP_KERNEL_HASHES for SEV-SNP (`-bios`).
    public var firmware: String
    /// The launch's init-data digest (sha384, 48 bytes), bound in hardware: TDX's MRCONFIGID (all 48
    /// bytes), SNP's HOST_DATA (the first 32). Nil for a launch without init-data (then zeros).
    public var initDataDigest: [UInt8]?

    public init(tee: TEE, firmware: String, initDataDigest: [UInt8]? = nil) {
        self.tee = tee
        self.firmware = firmware
        self.initDataDigest = initDataDigest
    }
}
