/// Where every level of a dm-verity hash tree sits in the hash file.
///
/// The tree (Linux Documentation/admin-guide/device-mapper/verity.rst, "Hash tree"): every data
/// block is hashed; the digests are packed into hash blocks (128 SHA-256 digests per 4096-byte
/// block, the tail of the last block zero); those hash blocks are hashed in turn, level after
/// level, until one level fits in a single block, whose hash is the root hash.
///
/// ```
///                          root hash = SHA-256(salt || top block)
///                                       │
///   level 2 (top)                    [ h0 h1 … ]                      1 block
///                                   ╱           ╲
///   level 1              [ h0 … h127 ]  …  [ h0 … ]                   ⌈n/128²⌉ blocks
///                        ╱          ╲
///   level 0 (leaves) [ d0 … d127 ] [ d128 … d255 ] …                  ⌈n/128⌉ blocks
///                     ╱       ╲
///   data          blk 0  …  blk 127  blk 128 …                        n blocks
/// ```
///
/// On disk (cryptsetup lib/verity/verity_hash.c, `hash_levels`; the kernel's `verity_hash_at_level`
/// computes the same offsets), the top level comes first and the leaves last, after one block for
/// the superblock:
///
/// ```
///   hash file  ┌────────────┬─────────┬─────────┬───────────────────┐
///   (blocks)   │ superblock │ level 2 │ level 1 │ level 0 (leaves)  │
///              │ 512 B + 0s │ 1 block │         │                   │
///              └────────────┴─────────┴─────────┴───────────────────┘
///               0            1 = hash_start_block
/// ```
///
/// With a single data block there are no levels at all: the root hash is the hash of that block
/// and the hash file is the superblock block alone.
struct VerityGeometry: Sendable, Equatable {
    struct Level: Sendable, Equatable {
        /// Index of the level's first block in the hash file, in hash blocks.
        var firstBlock: Int64
        /// Number of hash blocks in the level.
        var blockCount: Int64
    }

    static let digestSize = 32

    let dataBlocks: Int64
    let dataBlockSize: Int
    let hashBlockSize: Int
    /// Digests per hash block: the largest power of two that fits (cryptsetup `hash_per_block`).
    let digestsPerBlock: Int
    /// Index 0 hashes the data; the last level is the top (a single block).
    let levels: [Level]
    /// The superblock occupies this many hash blocks before the tree.
    let hashStartBlock: Int64
    /// Hash blocks in the file, superblock included.
    let totalHashBlocks: Int64

    var hashFileSize: Int64 { totalHashBlocks * Int64(hashBlockSize) }

    init(dataBlocks: Int64, dataBlockSize: Int, hashBlockSize: Int) {
        self.dataBlocks = dataBlocks
        self.dataBlockSize = dataBlockSize
        self.hashBlockSize = hashBlockSize
        var bits = 0
        while (hashBlockSize / Self.digestSize) >> (bits + 1) > 0 { bits += 1 }
        digestsPerBlock = 1 << bits
        hashStartBlock = Int64((VeritySuperblock.size + hashBlockSize - 1) / hashBlockSize)

        // The number of levels is the smallest L with (dataBlocks - 1) >> (bits * L) == 0.
        var levelCount = 0
        while bits * levelCount < 64, (dataBlocks - 1) >> Int64(bits * levelCount) != 0 { levelCount += 1 }
        var sizes: [Int64] = []
        for level in 0..<levelCount {
            let shift = Int64(bits * (level + 1))
            // ⌈dataBlocks / 2^shift⌉ without overflow: dataBlocks is at most Int64.max / 512.
            sizes.append(shift >= 63 ? 1 : (dataBlocks + (Int64(1) << shift) - 1) >> shift)
        }
        var position = hashStartBlock
        var placed = [Level](repeating: Level(firstBlock: 0, blockCount: 0), count: levelCount)
        for level in stride(from: levelCount - 1, through: 0, by: -1) {
            placed[level] = Level(firstBlock: position, blockCount: sizes[level])
            position += sizes[level]
        }
        levels = placed
        totalHashBlocks = position
    }

    /// Byte offset in the hash file of the digest of block `index` of the level below `level`
    /// (the data when `level` is 0).
    func digestOffset(level: Int, index: Int64) -> Int {
        let block = levels[level].firstBlock + index / Int64(digestsPerBlock)
        return Int(block) * hashBlockSize + Int(index % Int64(digestsPerBlock)) * Self.digestSize
    }
}
