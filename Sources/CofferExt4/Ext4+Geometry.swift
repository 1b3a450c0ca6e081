/// Where everything goes: the block count, the groups, and each group's metadata blocks.
///
/// Pure arithmetic over the size, so the layout is tested without a device. First data block is 0
/// (it is 1 only for 1 KiB blocks), so group g covers blocks [g * 32768, (g + 1) * 32768).
extension Ext4 {
    struct Geometry: Equatable {
        let blockCount: UInt64
        let groupCount: UInt64
        let inodesPerGroup: UInt32
        /// Blocks of group descriptors, at 32 bytes each (no 64bit feature).
        let descriptorBlocks: UInt64
        /// Blocks of one group's inode table.
        let inodeTableBlocks: UInt64

        /// The device's whole 4 KiB blocks, less a last group too small to be worth its metadata.
        init(size: UInt64) throws(Ext4Error) {
            guard size >= Ext4.minimumSize, size < Ext4.sizeLimit else { throw .sizeOutOfRange(size: size) }
            var blocks = size / UInt64(Ext4.blockSize)
            while true {
                let groups = (blocks + Ext4.blocksPerGroup - 1) / Ext4.blocksPerGroup
                let descriptorBlocks = (groups * UInt64(GroupDescriptor.size) + UInt64(Ext4.blockSize) - 1) / UInt64(Ext4.blockSize)
                // One inode per 16 KiB, spread evenly, a whole number of inode-table blocks per group,
                // and at most one bitmap block's worth (32768) per group.
                let inodesPerBlock = UInt64(Ext4.blockSize / Ext4.inodeSize)
                let wanted = (blocks * UInt64(Ext4.blockSize) / Ext4.bytesPerInode + groups - 1) / groups
                let inodesPerGroup = min((wanted + inodesPerBlock - 1) / inodesPerBlock * inodesPerBlock, Ext4.blocksPerGroup)
                let tableBlocks = inodesPerGroup / inodesPerBlock
                let lastLength = blocks - (groups - 1) * Ext4.blocksPerGroup
                let lastMetadata = (Self.hasSuperblockCopy(group: groups - 1) ? 1 + descriptorBlocks : 0) + 2 + tableBlocks
                // A last group that would keep fewer than 50 blocks beyond its own metadata is left
                // out and its blocks unused, as mke2fs does; the device's tail is then not file system.
                if groups > 1, lastLength < lastMetadata + 50 {
                    blocks = (groups - 1) * Ext4.blocksPerGroup
                    continue
                }
                self.blockCount = blocks
                self.groupCount = groups
                self.inodesPerGroup = UInt32(inodesPerGroup)
                self.descriptorBlocks = descriptorBlocks
                self.inodeTableBlocks = tableBlocks
                return
            }
        }

        var inodeCount: UInt32 { UInt32(groupCount) * inodesPerGroup }

        /// sparse_super: copies of the superblock and descriptors sit in groups 0, 1 and the powers
        /// of 3, 5 and 7 (Documentation/filesystems/ext4/overview.rst, "Sparse Super").
        static func hasSuperblockCopy(group: UInt64) -> Bool {
            if group <= 1 { return true }
            for base: UInt64 in [3, 5, 7] {
                var power = base
                while power < group { power *= base }
                if power == group { return true }
            }
            return false
        }

        func firstBlock(group: UInt64) -> UInt64 { group * Ext4.blocksPerGroup }

        /// The blocks of `group` inside the file system (the last group may be short).
        func length(group: UInt64) -> UInt64 { min(Ext4.blocksPerGroup, blockCount - firstBlock(group: group)) }

        /// Blocks at the start of `group` taken by its superblock copy, descriptors, bitmaps and
        /// inode table, in that order. The formatter never writes reserved GDT blocks (no resize_inode).
        func metadataBlocks(group: UInt64) -> UInt64 {
            (Self.hasSuperblockCopy(group: group) ? 1 + descriptorBlocks : 0) + 2 + inodeTableBlocks
        }

        func blockBitmap(group: UInt64) -> UInt64 {
            firstBlock(group: group) + (Self.hasSuperblockCopy(group: group) ? 1 + descriptorBlocks : 0)
        }
        func inodeBitmap(group: UInt64) -> UInt64 { blockBitmap(group: group) + 1 }
        func inodeTable(group: UInt64) -> UInt64 { blockBitmap(group: group) + 2 }

        /// The journal's length in blocks: the table mke2fs 1.47 uses (ext2fs_default_journal_size),
        /// from 1024 blocks (4 MiB) below 128 MiB up to 262144 (1 GiB) from 128 GiB.
        var journalBlocks: UInt64 {
            switch blockCount {
            case ..<32768: 1024
            case ..<(256 * 1024): 4096
            case ..<(512 * 1024): 8192
            case ..<(4096 * 1024): 16384
            case ..<(8192 * 1024): 32768
            case ..<(16384 * 1024): 65536
            case ..<(32768 * 1024): 131072
            default: 262144
            }
        }
    }
}
