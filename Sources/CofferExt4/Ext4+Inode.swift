import CofferCore

/// An inode, 256 bytes: the 128-byte original (struct ext4_inode in fs/ext4/ext4.h up to osd2),
/// then 32 bytes of extra fields (i_extra_isize = 32) and zeros where in-inode extended
/// attributes would go (Documentation/filesystems/ext4/inodes.rst).
extension Ext4 {
    struct Inode {
        static let extentsFlag: UInt32 = 0x0008_0000   // EXT4_EXTENTS_FL
        static let directoryMode: UInt16 = 0o040000    // S_IFDIR
        static let regularMode: UInt16 = 0o100000      // S_IFREG

        var mode: UInt16
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var size: UInt64
        var linkCount: UInt16
        /// Blocks the inode holds, data and extent-tree blocks, in 512-byte units (i_blocks).
        var sectorCount: UInt64
        var time: UInt32
        /// i_block: the extent tree's root, 60 bytes.
        var blockMap: [UInt8]

        func encoded() -> [UInt8] {
            var w = ByteWriter(capacity: Ext4.inodeSize)
            w.writeUInt16LE(mode)                           // 0x00 i_mode
            w.writeUInt16LE(UInt16(truncatingIfNeeded: uid)) // 0x02 i_uid (low 16 bits)
            w.writeUInt32LE(UInt32(truncatingIfNeeded: size)) // 0x04 i_size_lo
            w.writeUInt32LE(time)                           // 0x08 i_atime
            w.writeUInt32LE(time)                           // 0x0C i_ctime
            w.writeUInt32LE(time)                           // 0x10 i_mtime
            w.writeUInt32LE(0)                              // 0x14 i_dtime
            w.writeUInt16LE(UInt16(truncatingIfNeeded: gid)) // 0x18 i_gid (low 16 bits)
            w.writeUInt16LE(linkCount)                      // 0x1A i_links_count
            w.writeUInt32LE(UInt32(truncatingIfNeeded: sectorCount)) // 0x1C i_blocks_lo
            w.writeUInt32LE(Self.extentsFlag)               // 0x20 i_flags
            w.writeUInt32LE(0)                              // 0x24 osd1.l_i_version
            w.writeFixed(blockMap, width: 60)               // 0x28 i_block[15]
            w.writeUInt32LE(0)                              // 0x64 i_generation
            w.writeUInt32LE(0)                              // 0x68 i_file_acl_lo
            w.writeUInt32LE(UInt32(truncatingIfNeeded: size >> 32)) // 0x6C i_size_high
            w.writeUInt32LE(0)                              // 0x70 i_obso_faddr
            w.writeUInt16LE(UInt16(truncatingIfNeeded: sectorCount >> 32)) // 0x74 l_i_blocks_high
            w.writeUInt16LE(0)                              // 0x76 l_i_file_acl_high
            w.writeUInt16LE(UInt16(truncatingIfNeeded: uid >> 16)) // 0x78 l_i_uid_high
            w.writeUInt16LE(UInt16(truncatingIfNeeded: gid >> 16)) // 0x7A l_i_gid_high
            w.writeUInt16LE(0)                              // 0x7C l_i_checksum_lo
            w.writeUInt16LE(0)                              // 0x7E l_i_reserved
            w.writeUInt16LE(Ext4.extraInodeSize)            // 0x80 i_extra_isize
            w.writeUInt16LE(0)                              // 0x82 i_checksum_hi
            w.writeUInt32LE(0)                              // 0x84 i_ctime_extra
            w.writeUInt32LE(0)                              // 0x88 i_mtime_extra
            w.writeUInt32LE(0)                              // 0x8C i_atime_extra
            w.writeUInt32LE(time)                           // 0x90 i_crtime
            w.writeUInt32LE(0)                              // 0x94 i_crtime_extra
            w.writeUInt32LE(0)                              // 0x98 i_version_hi
            w.writeUInt32LE(0)                              // 0x9C i_projid
            w.writeZeros(Ext4.inodeSize - w.bytes.count)    // 0xA0 room for in-inode xattrs
            return w.bytes
        }
    }
}
