import CofferCore
import Foundation

/// What the host hands the guest before any of the guest's code runs: the kernel, the initramfs and
/// the kernel command line (which will carry the image's verity root hash). Recorded for every VM;
/// on TDX and SEV-SNP the same three inputs are what the hardware measures.
///
/// `digest` = SHA-256 of
/// ```
/// "coffer-launch-v1\0" | SHA-256(kernel) | SHA-256(initramfs) | len(cmdline) BE32 | cmdline
/// ```
/// Both digests are exactly 32 bytes and the command line is length-prefixed, so the encoding is
/// unambiguous: no two different launches hash the same bytes.
public struct LaunchMeasurement: Sendable, Equatable {
    public var kernelDigest: [UInt8]
    public var initramfsDigest: [UInt8]
    public var commandLine: String
    public var digest: [UInt8]

    public init(kernelDigest: [UInt8], initramfsDigest: [UInt8], commandLine: String) throws {
        guard kernelDigest.count == SHA256Digest.digestSize, initramfsDigest.count == SHA256Digest.digestSize else {
            throw VMMError.invalidConfiguration("launch measurement digests must be SHA-256 (32 bytes)")
        }
        self.kernelDigest = kernelDigest
        self.initramfsDigest = initramfsDigest
        self.commandLine = commandLine
        var encoding = ByteWriter()
        encoding.write(Array("coffer-launch-v1".utf8) + [0])
        encoding.write(kernelDigest)
        encoding.write(initramfsDigest)
        encoding.writeUInt32BE(UInt32(truncatingIfNeeded: commandLine.utf8.count))
        encoding.write(Array(commandLine.utf8))
        digest = SHA256Digest.hash(encoding.bytes)
    }

    /// The measurement of `vm` as QEMU will launch it, with `initramfs` built for it.
    public init(vm: VMConfiguration, initramfs: Initramfs) throws {
        try self.init(vm: vm, initramfsDigest: initramfs.digest)
    }

    /// The measurement of `vm` as QEMU will launch it, with an initramfs of digest `initramfsDigest`;
    /// the kernel is hashed with `sha256` (CofferCore's portable code unless the caller links a faster one).
    public init(vm: VMConfiguration, initramfsDigest: [UInt8], sha256: ([UInt8]) -> [UInt8] = { SHA256Digest.hash($0) }) throws {
        guard let kernel = FileManager.default.contents(atPath: vm.kernel) else {
            throw VMMError.file(path: vm.kernel, reason: "cannot read the guest kernel")
        }
        try self.init(
            kernelDigest: sha256([UInt8](kernel)), initramfsDigest: initramfsDigest,
            commandLine: QEMUCommand.kernelCommandLine(for: vm))
    }

    public var digestHex: String { "sha256:" + Hex.encode(digest) }
}
