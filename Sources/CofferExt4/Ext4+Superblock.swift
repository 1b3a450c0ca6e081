import CofferCore

/// The superblock: 1024 bytes at byte 1024 of the device, and a copy at the start of each group
/// with a backup (struct ext4_super_block in fs/ext4/ext4.h; Documentation/filesystems/ext4/super.rst).
/// All fields little-endian. Fields past s_raid_stripe_width are zero for a fresh file system
/// (error records, snapshot, quota and encryption fields, checksum: no metadata_csum).
extension Ext4 {
    struct Superblock {
        static let size = 1024
        static let magic: UInt16 = 0xEF53

        var inodeCount: UInt32
        var blockCount: UInt32
        var reservedBlockCount: UInt32
        var freeBlockCount: UInt32
        var freeInodeCount: UInt32
        var inodesPerGroup: UInt32
        var now: UInt32
        var blockGroupNumber: UInt16 = 0
        var uuid: [UInt8]
        var label: [UInt8]
        var hashSeed: [UInt8]
        /// s_jnl_blocks: the journal inode's i_block, then i_size_high and i_size (super.rst).
        var journalBackup: [UInt32]

        func encoded() -> [UInt8] {
            var w = ByteWriter(capacity: Self.size)
            w.writeUInt32LE(inodeCount)              // 0x00 s_inodes_count
            w.writeUInt32LE(blockCount)              // 0x04 s_blocks_count_lo
            w.writeUInt32LE(reservedBlockCount)      // 0x08 s_r_blocks_count_lo
            w.writeUInt32LE(freeBlockCount)          // 0x0C s_free_blocks_count_lo
            w.writeUInt32LE(freeInodeCount)          // 0x10 s_free_inodes_count
            w.writeUInt32LE(0)                       // 0x14 s_first_data_block (0 for 4 KiB blocks)
            w.writeUInt32LE(Ext4.logBlockSize)       // 0x18 s_log_block_size
            w.writeUInt32LE(Ext4.logBlockSize)       // 0x1C s_log_cluster_size (no bigalloc: = block)
            w.writeUInt32LE(UInt32(Ext4.blocksPerGroup)) // 0x20 s_blocks_per_group
            w.writeUInt32LE(UInt32(Ext4.blocksPerGroup)) // 0x24 s_clusters_per_group
            w.writeUInt32LE(inodesPerGroup)          // 0x28 s_inodes_per_group
            w.writeUInt32LE(0)                       // 0x2C s_mtime (never mounted)
            w.writeUInt32LE(now)                     // 0x30 s_wtime
            w.writeUInt16LE(0)                       // 0x34 s_mnt_count
            w.writeUInt16LE(0xFFFF)                  // 0x36 s_max_mnt_count (-1: no forced check)
            w.writeUInt16LE(Self.magic)              // 0x38 s_magic
            w.writeUInt16LE(1)                       // 0x3A s_state: EXT4_VALID_FS (cleanly unmounted)
            w.writeUInt16LE(1)                       // 0x3C s_errors: EXT4_ERRORS_CONTINUE
            w.writeUInt16LE(0)                       // 0x3E s_minor_rev_level
            w.writeUInt32LE(now)                     // 0x40 s_lastcheck
            w.writeUInt32LE(0)                       // 0x44 s_checkinterval
            w.writeUInt32LE(0)                       // 0x48 s_creator_os: Linux
            w.writeUInt32LE(1)                       // 0x4C s_rev_level: EXT4_DYNAMIC_REV
            w.writeUInt16LE(0)                       // 0x50 s_def_resuid
            w.writeUInt16LE(0)                       // 0x52 s_def_resgid
            w.writeUInt32LE(Ext4.firstInode)         // 0x54 s_first_ino
            w.writeUInt16LE(UInt16(Ext4.inodeSize))  // 0x58 s_inode_size
            w.writeUInt16LE(blockGroupNumber)        // 0x5A s_block_group_nr
            w.writeUInt32LE(Ext4.compatibleFeatures) // 0x5C s_feature_compat
            w.writeUInt32LE(Ext4.incompatibleFeatures) // 0x60 s_feature_incompat
            w.writeUInt32LE(Ext4.readOnlyCompatibleFeatures) // 0x64 s_feature_ro_compat
            w.writeFixed(uuid, width: 16)            // 0x68 s_uuid
            w.writeFixed(label, width: 16)           // 0x78 s_volume_name
            w.writeZeros(64)                         // 0x88 s_last_mounted
            w.writeUInt32LE(0)                       // 0xC8 s_algorithm_usage_bitmap
            w.writeUInt8(0)                          // 0xCC s_prealloc_blocks
            w.writeUInt8(0)                          // 0xCD s_prealloc_dir_blocks
            w.writeUInt16LE(0)                       // 0xCE s_reserved_gdt_blocks (no resize_inode)
            w.writeZeros(16)                         // 0xD0 s_journal_uuid (internal journal: none)
            w.writeUInt32LE(Ext4.InodeNumber.journal) // 0xE0 s_journal_inum
            w.writeUInt32LE(0)                       // 0xE4 s_journal_dev
            w.writeUInt32LE(0)                       // 0xE8 s_last_orphan
            w.writeFixed(hashSeed, width: 16)        // 0xEC s_hash_seed[4]
            w.writeUInt8(1)                          // 0xFC s_def_hash_version: DX_HASH_HALF_MD4
            w.writeUInt8(1)                          // 0xFD s_jnl_backup_type: EXT3_JNL_BACKUP_BLOCKS
            w.writeUInt16LE(0)                       // 0xFE s_desc_size (0: 32-byte descriptors)
            w.writeUInt32LE(0)                       // 0x100 s_default_mount_opts
            w.writeUInt32LE(0)                       // 0x104 s_first_meta_bg
            w.writeUInt32LE(now)                     // 0x108 s_mkfs_time
            for word in journalBackup.prefix(17) { w.writeUInt32LE(word) } // 0x10C s_jnl_blocks[17]
            w.writeZeros(4 * (17 - min(17, journalBackup.count)))
            w.writeUInt32LE(0)                       // 0x150 s_blocks_count_hi
            w.writeUInt32LE(0)                       // 0x154 s_r_blocks_count_hi
            w.writeUInt32LE(0)                       // 0x158 s_free_blocks_count_hi
            w.writeUInt16LE(Ext4.extraInodeSize)     // 0x15C s_min_extra_isize
            w.writeUInt16LE(Ext4.extraInodeSize)     // 0x15E s_want_extra_isize
            w.writeUInt32LE(0x0001)                  // 0x160 s_flags: EXT2_FLAGS_SIGNED_HASH
            w.writeZeros(Self.size - w.bytes.count)  // 0x164 s_raid_stride ... 0x3FC s_checksum
            return w.bytes
        }
    }
}
