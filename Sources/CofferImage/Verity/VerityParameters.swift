/// The inputs of a dm-verity hash tree besides the data: what `veritysetup format` takes as
/// `--salt`, `--uuid`, `--data-block-size` and `--hash-block-size`. Coffer always uses SHA-256 and
/// hash type 1 (the normal, non-Chrome-OS format).
///
/// The image builder derives salt and UUID deterministically from the build inputs, so that the
/// same inputs give the same hash file byte for byte.
public struct VerityParameters: Sendable, Equatable {
    /// Prepended to every hashed block (hash type 1). At most 256 bytes (superblock field size).
    public var salt: [UInt8]
    /// The hash device's UUID as 16 raw bytes; recorded in the superblock only.
    public var uuid: [UInt8]
    /// Bytes per data block: a power of two from 512 to 65536 (the kernel needs <= page size to
    /// activate, so Coffer images use 4096).
    public var dataBlockSize: Int
    /// Bytes per hash block: a power of two from 512 to 65536.
    public var hashBlockSize: Int

    public init(salt: [UInt8], uuid: [UInt8], dataBlockSize: Int = 4096, hashBlockSize: Int = 4096) {
        self.salt = salt
        self.uuid = uuid
        self.dataBlockSize = dataBlockSize
        self.hashBlockSize = hashBlockSize
    }

    /// Throws `VerityError.invalidParameters` naming the first field that cannot be used.
    func validate() throws(VerityError) {
        guard salt.count <= VeritySuperblock.maxSaltSize else {
            throw .invalidParameters("salt is \(salt.count) bytes, at most 256 fit in the superblock")
        }
        guard uuid.count == 16 else {
            throw .invalidParameters("UUID is \(uuid.count) bytes, expected 16")
        }
        for (name, size) in [("data block size", dataBlockSize), ("hash block size", hashBlockSize)] {
            guard size >= 512, size <= 65536, size & (size - 1) == 0 else {
                throw .invalidParameters("\(name) \(size) is not a power of two from 512 to 65536")
            }
        }
    }
}

/// What `VerityTree.format` built (or `verify` checked): the values a manifest records and the
/// guest needs to set up the verity device.
public struct VerityResult: Sendable, Equatable {
    /// SHA-256(salt || top hash block), or of the only data block when the data is one block.
    public var rootHash: [UInt8]
    /// Number of data blocks covered (data size / data block size).
    public var dataBlocks: Int64
    /// Size of the hash file in bytes: superblock block plus every hash block.
    public var hashFileSize: Int64
    /// Offset of the first hash block in the hash file, in hash blocks (the kernel's
    /// `<hash_start_block>` table argument); 1 with a superblock.
    public var hashStartBlock: Int64
    public var salt: [UInt8]
    public var uuid: [UInt8]
    public var dataBlockSize: Int
    public var hashBlockSize: Int
}
