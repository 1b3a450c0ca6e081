import CofferCore

/// An image's root as the launcher hands it to the guest: the EROFS data and its dm-verity hash
/// file as two read-only disks, and the verity parameters on the kernel command line, where the
/// launch measurement covers them.
///
/// ```
/// coffer.verity=<root hash hex>,<salt hex>,<data blocks>
/// ```
/// The agent (CofferAgent's VerityRoot) builds the dm-verity table from exactly these values,
/// with 4096-byte blocks, SHA-256 and the tree after a one-block superblock.
public struct VerityRootDisks: Sendable, Equatable {
    public static let dataSerial = "coffer-data"
    public static let hashSerial = "coffer-hash"

    public var dataPath: String
    public var hashPath: String
    public var rootHash: String
    public var salt: String
    public var dataBlocks: Int64

    /// Checks the parameters are what the agent's verity table takes (lower-case hex, SHA-256
    /// sized root hash, 4096-byte blocks), so a bad manifest fails here and not in the guest.
    public init(
        dataPath: String, hashPath: String, rootHash: String, salt: String, dataBlocks: Int64,
        hashAlgorithm: String = "sha256", dataBlockSize: Int = 4096, hashBlockSize: Int = 4096
    ) throws(VMMError) {
        guard hashAlgorithm == "sha256", dataBlockSize == 4096, hashBlockSize == 4096 else {
            throw .invalidConfiguration(
                "the guest agent mounts verity roots with sha256 and 4096-byte blocks, not \(hashAlgorithm) with \(dataBlockSize)/\(hashBlockSize)")
        }
        let lowerHex = { (text: String) in text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } }
        guard rootHash.utf8.count == 64, lowerHex(rootHash) else { throw .invalidConfiguration("verity root hash \(rootHash) is not 64 hex digits") }
        guard salt.utf8.count <= 512, salt.utf8.count % 2 == 0, lowerHex(salt) else { throw .invalidConfiguration("verity salt \(salt) is not hex") }
        guard dataBlocks > 0, dataBlocks < 1 << 40 else { throw .invalidConfiguration("verity data block count \(dataBlocks) is out of range") }
        self.dataPath = dataPath
        self.hashPath = hashPath
        self.rootHash = rootHash
        self.salt = salt
        self.dataBlocks = dataBlocks
    }

    public var kernelArgument: String { "coffer.verity=\(rootHash),\(salt),\(dataBlocks)" }

    public var disks: [VMConfiguration.Disk] {
        [.init(path: dataPath, serial: Self.dataSerial), .init(path: hashPath, serial: Self.hashSerial)]
    }
}
