import CofferCore

/// Builds and checks dm-verity hash trees in the Linux on-disk format, byte-identical to what
/// `veritysetup format` (cryptsetup 2.6) writes for the same data, salt and UUID. See
/// `VerityGeometry` for the layout and `VeritySuperblock` for the header.
///
/// The tree is built in memory (its size is about 1/127 of the data: 8 MiB for 1 GiB) and written
/// in one go, so the hash file is never read back while it is built.
public enum VerityTree {
    /// Hashes `dataPath` and writes the hash file (superblock + tree) to `hashPath`, creating or
    /// truncating it. Not atomic: on failure `hashPath` may hold a partial file; the image builder
    /// works in a temporary directory and renames it when the whole image is done.
    ///
    /// `progress` receives the number of data bytes hashed so far; it is called from worker
    /// threads, possibly concurrently.
    /// Throws `VerityError`.
    public static func format(
        dataPath: String, hashPath: String, parameters: VerityParameters,
        progress: (@Sendable (Int64) -> Void)? = nil
    ) throws -> VerityResult {
        try parameters.validate()
        let data = try VerityFile.openForReading(dataPath)
        let dataBlocks = try countBlocks(data, blockSize: parameters.dataBlockSize)
        let geometry = VerityGeometry(
            dataBlocks: dataBlocks, dataBlockSize: parameters.dataBlockSize, hashBlockSize: parameters.hashBlockSize)
        var image = [UInt8](repeating: 0, count: Int(geometry.hashFileSize))
        let rootHash = try build(data: data, geometry: geometry, parameters: parameters, into: &image, progress: progress)
        let hash = try VerityFile.create(hashPath)
        try image.withUnsafeBytes { bytes in try hash.write(bytes, at: 0) }
        try hash.sync()
        return result(rootHash: rootHash, geometry: geometry, parameters: parameters)
    }

    /// Recomputes the tree of `dataPath` with the parameters recorded in `hashPath`'s superblock
    /// and checks that the stored hash file is byte for byte the one `format` would write and that
    /// the root hash is `rootHash`. Throws `VerityError` naming the first region that differs.
    ///
    /// The root hash covers the salt and every block, but not the superblock's UUID; pass
    /// `parameters` (the ones the image was built with) to also require the superblock to be
    /// exactly theirs.
    @discardableResult
    public static func verify(
        dataPath: String, hashPath: String, rootHash: [UInt8], parameters expected: VerityParameters? = nil
    ) throws -> VerityResult {
        let hash = try VerityFile.openForReading(hashPath)
        let storedSize = try hash.size()
        guard storedSize >= Int64(VeritySuperblock.size) else {
            throw VerityError.badSuperblock(path: hashPath, reason: "file is \(storedSize) bytes, shorter than a superblock")
        }
        var header = [UInt8](repeating: 0, count: VeritySuperblock.size)
        try header.withUnsafeMutableBytes { bytes in try hash.read(into: bytes, at: 0) }
        let parameters = try VeritySuperblock.parse(header, path: hashPath)
        if let expected, expected != parameters {
            throw VerityError.badSuperblock(path: hashPath, reason: "salt, UUID or block sizes differ from the image's")
        }
        let data = try VerityFile.openForReading(dataPath)
        let dataBlocks = try countBlocks(data, blockSize: parameters.dataBlockSize)
        let recorded = VeritySuperblock.dataBlocks(header) ?? -1
        guard recorded == dataBlocks else {
            throw VerityError.dataSizeMismatch(
                path: dataPath, expected: recorded &* Int64(parameters.dataBlockSize),
                actual: dataBlocks * Int64(parameters.dataBlockSize))
        }
        let geometry = VerityGeometry(
            dataBlocks: dataBlocks, dataBlockSize: parameters.dataBlockSize, hashBlockSize: parameters.hashBlockSize)
        guard storedSize == geometry.hashFileSize else {
            throw VerityError.hashFileSize(path: hashPath, expected: geometry.hashFileSize, actual: storedSize)
        }
        var stored = [UInt8](repeating: 0, count: Int(storedSize))
        try stored.withUnsafeMutableBytes { bytes in try hash.read(into: bytes, at: 0) }
        var expected = [UInt8](repeating: 0, count: Int(storedSize))
        let computed = try build(data: data, geometry: geometry, parameters: parameters, into: &expected, progress: nil)
        if let region = firstDifference(stored, expected, geometry: geometry) {
            throw VerityError.treeMismatch(path: hashPath, region: region)
        }
        guard computed == rootHash else {
            throw VerityError.rootHashMismatch(expected: Hex.encode(rootHash), computed: Hex.encode(computed))
        }
        return result(rootHash: computed, geometry: geometry, parameters: parameters)
    }

    // MARK: - The pure part

    /// Fills `image` (sized `geometry.hashFileSize`, zeroed) with superblock and tree; returns the
    /// root hash.
    static func build(
        data: VerityFile, geometry: VerityGeometry, parameters: VerityParameters,
        into image: inout [UInt8], progress: (@Sendable (Int64) -> Void)?
    ) throws -> [UInt8] {
        let hasher = VerityHasher(salt: parameters.salt)
        let superblock = VeritySuperblock(parameters: parameters, dataBlocks: geometry.dataBlocks).serialized()
        image.replaceSubrange(0..<superblock.count, with: superblock)
        guard let top = geometry.levels.last else {
            // One data block: no hash blocks; the root is that block's hash.
            var block = [UInt8](repeating: 0, count: geometry.dataBlockSize)
            try block.withUnsafeMutableBytes { bytes in try data.read(into: bytes, at: 0) }
            progress?(Int64(geometry.dataBlockSize))
            return block.withUnsafeBytes { hasher.hash($0) }
        }
        return try image.withUnsafeMutableBytes { tree in
            try VerityLeafLevel.hash(data: data, geometry: geometry, hasher: hasher, tree: tree, progress: progress)
            hashUpperLevels(geometry: geometry, hasher: hasher, tree: tree)
            return hasher.hash(block(Int(top.firstBlock), of: UnsafeRawBufferPointer(tree), size: geometry.hashBlockSize))
        }
    }

    /// Level k holds the digests of the blocks of level k - 1; the levels above the leaves are
    /// small (1/128 of the level below), so one thread does them.
    static func hashUpperLevels(geometry: VerityGeometry, hasher: VerityHasher, tree: UnsafeMutableRawBufferPointer) {
        guard let base = tree.baseAddress else { return }
        for level in geometry.levels.indices.dropFirst() {
            let below = geometry.levels[level - 1]
            for index in 0..<below.blockCount {
                let source = block(Int(below.firstBlock + index), of: UnsafeRawBufferPointer(tree), size: geometry.hashBlockSize)
                hasher.hash(source, into: base + geometry.digestOffset(level: level, index: index))
            }
        }
    }

    private static func block(_ index: Int, of tree: UnsafeRawBufferPointer, size: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: tree[index * size..<(index + 1) * size])
    }

    private static func countBlocks(_ data: VerityFile, blockSize: Int) throws(VerityError) -> Int64 {
        let size = try data.size()
        guard size > 0 else { throw .emptyData(path: data.path) }
        guard size % Int64(blockSize) == 0 else {
            throw .sizeNotBlockMultiple(path: data.path, size: size, blockSize: blockSize)
        }
        return size / Int64(blockSize)
    }

    /// Names the first region where the stored hash file differs, checking the leaves first so
    /// that tampered data is reported where it happened rather than at the top of the tree.
    private static func firstDifference(_ stored: [UInt8], _ expected: [UInt8], geometry: VerityGeometry) -> String? {
        let size = geometry.hashBlockSize
        for (number, level) in geometry.levels.enumerated() {
            for index in 0..<level.blockCount {
                let start = Int(level.firstBlock + index) * size
                if stored[start..<start + size] != expected[start..<start + size] {
                    let perBlock = Int64(geometry.digestsPerBlock)
                    var span = Int64(1)
                    for _ in 0...number {
                        let (product, overflow) = span.multipliedReportingOverflow(by: perBlock)
                        span = overflow ? Int64.max : product
                    }
                    let first = index.multipliedReportingOverflow(by: span).overflow ? 0 : index * span
                    let last = min(geometry.dataBlocks, first &+ span) - 1
                    return "hash tree level \(number) block \(index) (data blocks \(first)...\(last))"
                }
            }
        }
        let headerEnd = Int(geometry.hashStartBlock) * size
        if stored[0..<headerEnd] != expected[0..<headerEnd] { return "superblock" }
        return nil
    }

    private static func result(rootHash: [UInt8], geometry: VerityGeometry, parameters: VerityParameters) -> VerityResult {
        VerityResult(
            rootHash: rootHash, dataBlocks: geometry.dataBlocks, hashFileSize: geometry.hashFileSize,
            hashStartBlock: geometry.hashStartBlock, salt: parameters.salt, uuid: parameters.uuid,
            dataBlockSize: parameters.dataBlockSize, hashBlockSize: parameters.hashBlockSize)
    }
}
