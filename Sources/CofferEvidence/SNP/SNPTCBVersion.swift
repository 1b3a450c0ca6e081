/// An SEV-SNP TCB_VERSION: the security patch levels (SPLs) of the firmware components, packed in
/// one little-endian 64-bit word.
///
/// Layout for Milan and Genoa (SEV-SNP Firmware ABI Specification, "TCB_VERSION Structure"):
///
/// ```
///  byte:   0           1     2..5       6     7
///        ┌──────────┬─────┬──────────┬─────┬───────────┐
///        │BOOT_LOADER│ TEE │ reserved │ SNP │ MICROCODE │
///        └──────────┴─────┴──────────┴─────┴───────────┘
/// ```
///
/// Turin (family 19h → 1Ah) moved the fields (it adds an FMC byte); Coffer decodes only the
/// Milan/Genoa layout and the verifier refuses reports from other families rather than misread them.
public struct SNPTCBVersion: Sendable, Hashable, CustomStringConvertible {
    /// The packed value exactly as the report carries it.
    public var raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    public init(bootloader: UInt8, tee: UInt8, snp: UInt8, microcode: UInt8) {
        raw = UInt64(bootloader) | UInt64(tee) << 8 | UInt64(snp) << 48 | UInt64(microcode) << 56
    }

    public var bootloader: UInt8 { byte(0) }
    public var tee: UInt8 { byte(1) }
    /// Bytes 2 to 5, reserved (the KDS certificate carries them as SPL4..SPL7).
    public var reserved: [UInt8] { (2...5).map(byte) }
    public var snp: UInt8 { byte(6) }
    public var microcode: UInt8 { byte(7) }

    private func byte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: raw >> (8 * UInt64(index))) }

    public var description: String {
        "bootloader \(bootloader), tee \(tee), snp \(snp), microcode \(microcode)"
    }

    /// Eight bytes, little-endian, as in the report: the form Coffer prints as a claim.
    public var bytes: [UInt8] { (0..<8).map(byte) }
}
