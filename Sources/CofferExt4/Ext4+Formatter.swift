import CofferCore

extension Ext4 {
    /// Makes an empty ext4 file system on `device`, which must read as zeros throughout.
    ///
    /// Only non-zero metadata is written: bitmaps, the first inode-table block, the two directories,
    /// the journal superblock, superblock and descriptor copies. Zeroed inode tables and an
    /// all-zero journal are already what the kernel and e2fsck expect, so a gigabyte volume costs
    /// a few hundred kilobytes of writes. The primary descriptors and superblock go last, after a
    /// flush: until then the device does not read as ext4, and an interrupted format is redone.
    ///
    /// - Parameters:
    ///   - size: the device's size in bytes; whole 4 KiB blocks are used, at least 16 MiB and
    ///     below 16 TiB.
    ///   - label: s_volume_name, at most 16 bytes of UTF-8.
    ///   - uuid: the file system's 16-byte UUID; also seeds the directory hash.
    ///   - rootOwner: the owner of the root directory (mode 0755); lost+found stays root's.
    ///   - now: every timestamp written, in seconds since 1970. The output is a function of the
    ///     inputs alone.
    public static func format(
        _ device: some BlockDeviceWriter, size: UInt64, label: String, uuid: [UInt8],
        rootOwner: (uid: UInt32, gid: UInt32), now: UInt32
    ) throws {
        let label = Array(label.utf8)
        guard label.count <= 16 else { throw Ext4Error.labelTooLong(bytes: label.count) }
        guard uuid.count == 16 else { throw Ext4Error.uuidLength(uuid.count) }
        guard uuid.contains(where: { $0 != 0 }) else { throw Ext4Error.nullUUID }
        let geometry = try Geometry(size: size)
        let plan = try Plan(geometry: geometry)
        let block = UInt64(Ext4.blockSize)

        // Bitmaps, group by group.
        for group in 0..<geometry.groupCount {
            try device.write(plan.blockBitmap(group: group), at: geometry.blockBitmap(group: group) * block)
            let inodes = plan.inodeBitmap(group: group)
            if inodes.contains(where: { $0 != 0 }) {
                try device.write(inodes, at: geometry.inodeBitmap(group: group) * block)
            }
        }

        // Inodes 2 (root), 8 (journal) and 11 (lost+found) share the inode table's first block.
        let journalExtents = ExtentTree.extents(of: plan.journal)
        let journalTree = ExtentTree.encode(journalExtents, leafBlock: plan.journalLeaf)
        let journalInode = Inode(
            mode: Inode.regularMode | 0o600, size: geometry.journalBlocks * block, linkCount: 1,
            sectorCount: (geometry.journalBlocks + (plan.journalLeaf == nil ? 0 : 1)) * block / 512, time: now,
            blockMap: journalTree.blockMap)
        let rootInode = Inode(
            mode: Inode.directoryMode | 0o755, uid: rootOwner.uid, gid: rootOwner.gid, size: block,
            linkCount: 3, sectorCount: block / 512, time: now,
            blockMap: ExtentTree.encode([Extent(start: plan.rootDirectory, length: 1)], leafBlock: nil).blockMap)
        let lostAndFoundInode = Inode(
            mode: Inode.directoryMode | 0o700, size: Plan.lostAndFoundBlocks * block, linkCount: 2,
            sectorCount: Plan.lostAndFoundBlocks * block / 512, time: now,
            blockMap: ExtentTree.encode([Extent(start: plan.lostAndFound, length: Plan.lostAndFoundBlocks)], leafBlock: nil).blockMap)
        var table = [UInt8](repeating: 0, count: Ext4.blockSize)
        for (number, inode) in [(InodeNumber.root, rootInode), (InodeNumber.journal, journalInode), (InodeNumber.lostAndFound, lostAndFoundInode)] {
            let offset = Int(number - 1) * Ext4.inodeSize
            table.replaceSubrange(offset..<offset + Ext4.inodeSize, with: inode.encoded())
        }
        try device.write(table, at: geometry.inodeTable(group: 0) * block)

        // Directory blocks, the journal superblock and, for a long journal, its extent leaf.
        try device.write(
            DirectoryBlock.encode([(InodeNumber.root, "."), (InodeNumber.root, ".."), (InodeNumber.lostAndFound, "lost+found")]),
            at: plan.rootDirectory * block)
        try device.write(
            DirectoryBlock.encode([(InodeNumber.lostAndFound, "."), (InodeNumber.root, "..")]), at: plan.lostAndFound * block)
        for index in 1..<Plan.lostAndFoundBlocks {
            try device.write(DirectoryBlock.empty, at: (plan.lostAndFound + index) * block)
        }
        try device.write(
            JournalSuperblock(blockCount: UInt32(geometry.journalBlocks), uuid: uuid).encoded(), at: plan.journal[0].start * block)
        if let leafBlock = plan.journalLeaf, let leaf = journalTree.leaf {
            try device.write(leaf, at: leafBlock * block)
        }

        // Superblock and descriptors: the copies, then (after a flush) the primary ones.
        var journalBackup: [UInt32] = []
        for index in 0..<15 {
            var word: UInt32 = 0
            for byte in 0..<4 { word |= UInt32(journalTree.blockMap[index * 4 + byte]) << UInt32(8 * byte) }
            journalBackup.append(word)
        }
        let journalSize = geometry.journalBlocks * block
        journalBackup += [UInt32(truncatingIfNeeded: journalSize >> 32), UInt32(truncatingIfNeeded: journalSize)]
        var superblock = Superblock(
            inodeCount: geometry.inodeCount, blockCount: UInt32(geometry.blockCount), reservedBlockCount: 0,
            freeBlockCount: UInt32(plan.freeBlockCount), freeInodeCount: geometry.inodeCount - (Ext4.firstInode),
            inodesPerGroup: geometry.inodesPerGroup, now: now, uuid: uuid, label: label,
            hashSeed: Array(SHA256Digest.hash(Array("Coffer ext4 directory hash seed".utf8) + uuid).prefix(16)),
            journalBackup: journalBackup)
        let descriptors = plan.descriptorTable()
        for group in 1..<max(1, geometry.groupCount) where Geometry.hasSuperblockCopy(group: group) {
            superblock.blockGroupNumber = UInt16(truncatingIfNeeded: group)
            try device.write(superblock.encoded(), at: geometry.firstBlock(group: group) * block)
            try device.write(descriptors, at: (geometry.firstBlock(group: group) + 1) * block)
        }
        try device.flush()
        superblock.blockGroupNumber = 0
        try device.write(descriptors, at: block)
        try device.write(superblock.encoded(), at: 1024)
        try device.flush()
    }
}
