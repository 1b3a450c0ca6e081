import CofferCore

/// A block group descriptor, 32 bytes without the 64bit feature (struct ext4_group_desc in
/// fs/ext4/ext4.h up to bg_checksum; Documentation/filesystems/ext4/group_descr.rst). The table of
/// them follows each superblock copy, starting at block 1.
extension Ext4 {
    struct GroupDescriptor {
        static let size = 32

        var blockBitmap: UInt32
        var inodeBitmap: UInt32
        var inodeTable: UInt32
        var freeBlockCount: UInt16
        var freeInodeCount: UInt16
        var directoryCount: UInt16

        func encode(into w: inout ByteWriter) {
            w.writeUInt32LE(blockBitmap)      // 0x00 bg_block_bitmap_lo
            w.writeUInt32LE(inodeBitmap)      // 0x04 bg_inode_bitmap_lo
            w.writeUInt32LE(inodeTable)       // 0x08 bg_inode_table_lo
            w.writeUInt16LE(freeBlockCount)   // 0x0C bg_free_blocks_count_lo
            w.writeUInt16LE(freeInodeCount)   // 0x0E bg_free_inodes_count_lo
            w.writeUInt16LE(directoryCount)   // 0x10 bg_used_dirs_count_lo
            w.writeUInt16LE(0)                // 0x12 bg_flags (no uninit_bg: every group initialised)
            w.writeUInt32LE(0)                // 0x14 bg_exclude_bitmap_lo
            w.writeUInt16LE(0)                // 0x18 bg_block_bitmap_csum_lo
            w.writeUInt16LE(0)                // 0x1A bg_inode_bitmap_csum_lo
            w.writeUInt16LE(0)                // 0x1C bg_itable_unused_lo
            w.writeUInt16LE(0)                // 0x1E bg_checksum
        }
    }
}
