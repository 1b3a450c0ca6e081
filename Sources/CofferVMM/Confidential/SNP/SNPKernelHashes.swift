import CofferCore

/// The table of SHA-256 digests QEMU writes into the firmware's hash-table page when it boots a
/// kernel directly with `kernel-hashes=on` (QEMU target/i386/sev.c, `SevHashTable`; edk2
/// OvmfPkg/AmdSev/BlobVerifierLibSevHashes checks the kernel, initrd and command line it loads
/// against it). The page is launched as a normal page, so these digests enter the measurement.
///
/// Little-endian, packed; entries in this order:
/// ```
/// header GUID 9438d606-… | length u16 = 168
/// cmdline GUID 97d02dd8-… | length u16 = 50 | SHA-256(command line + NUL)
/// initrd  GUID 44baf731-… | length u16 = 50 | SHA-256(initrd, or of nothing)
/// kernel  GUID 4de79437-… | length u16 = 50 | SHA-256(kernel file)
/// zero padding to a multiple of 16 (176 bytes)
/// ```
public struct SNPKernelHashes: Sendable, Equatable {
    public static let headerGUID = FirmwareGUID("9438d606-4f22-4cc9-b479-a793d411fd21")
    public static let cmdlineGUID = FirmwareGUID("97d02dd8-bd20-4c94-aa78-e7714d36ab2a")
    public static let initrdGUID = FirmwareGUID("44baf731-3a2f-4bd7-9af1-41e29169781d")
    public static let kernelGUID = FirmwareGUID("4de79437-abd2-427f-b835-d5b172d2045b")

    static let entrySize = 16 + 2 + 32
    static let tableSize = 16 + 2 + 3 * entrySize
    /// The table as QEMU copies it, padded to 16 bytes.
    public static let paddedSize = (tableSize + 15) & ~15

    public var kernelDigest: [UInt8]
    public var initrdDigest: [UInt8]
    public var cmdlineDigest: [UInt8]

    /// From the three SHA-256 digests; `cmdlineDigest` covers the command line and its NUL.
    public init(kernelDigest: [UInt8], initrdDigest: [UInt8], cmdlineDigest: [UInt8]) throws(LaunchDigestError) {
        guard [kernelDigest, initrdDigest, cmdlineDigest].allSatisfy({ $0.count == SHA256Digest.digestSize }) else {
            throw .input("kernel hashes must be SHA-256 digests (32 bytes)")
        }
        self.kernelDigest = kernelDigest
        self.initrdDigest = initrdDigest
        self.cmdlineDigest = cmdlineDigest
    }

    /// QEMU's hashes for `-kernel`, `-initrd` (nil: none, hashed as no bytes) and `-append`:
    /// the command line is hashed with its terminating NUL, as the kernel receives it.
    public init(kernelDigest: [UInt8], initrdDigest: [UInt8]?, commandLine: String, sha256: ([UInt8]) -> [UInt8] = { SHA256Digest.hash($0) }) throws(LaunchDigestError) {
        try self.init(
            kernelDigest: kernelDigest, initrdDigest: initrdDigest ?? sha256([]),
            cmdlineDigest: sha256(Array(commandLine.utf8) + [0]))
    }

    /// The padded table.
    public var table: [UInt8] {
        var table = ByteWriter(capacity: Self.paddedSize)
        table.write(Self.headerGUID.bytes)
        table.writeUInt16LE(UInt16(Self.tableSize))
        for (guid, digest) in [(Self.cmdlineGUID, cmdlineDigest), (Self.initrdGUID, initrdDigest), (Self.kernelGUID, kernelDigest)] {
            table.write(guid.bytes)
            table.writeUInt16LE(UInt16(Self.entrySize))
            table.write(digest)
        }
        table.writeZeros(Self.paddedSize - Self.tableSize)
        return table.bytes
    }

    /// The 4 KiB page launched for the SNP_KERNEL_HASHES section: zeros, with the table at
    /// `offset` (the hash table's GPA within its page).
    public func page(tableOffset offset: Int) throws(LaunchDigestError) -> [UInt8] {
        guard offset >= 0, offset + Self.paddedSize <= SNPLaunchDigest.pageSize else {
            throw .firmware("the kernel hash table at offset \(offset) of its page does not fit in the page")
        }
        var page = [UInt8](repeating: 0, count: SNPLaunchDigest.pageSize)
        page.replaceSubrange(offset..<(offset + Self.paddedSize), with: table)
        return page
    }
}
