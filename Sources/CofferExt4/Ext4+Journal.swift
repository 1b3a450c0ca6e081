import CofferCore

/// The jbd2 journal superblock, version 2, in the journal's first block (struct journal_superblock_s
/// in include/linux/jbd2.h; Documentation/filesystems/ext4/journal.rst). Unlike the rest of ext4,
/// jbd2 is big-endian. The rest of the journal stays zero: s_start = 0 says it holds nothing to
/// replay.
extension Ext4 {
    struct JournalSuperblock {
        static let magic: UInt32 = 0xC03B_3998     // JBD2_MAGIC_NUMBER
        static let superblockV2: UInt32 = 4        // JBD2_SUPERBLOCK_V2

        var blockCount: UInt32
        var uuid: [UInt8]

        func encoded() -> [UInt8] {
            var w = ByteWriter(capacity: Ext4.blockSize)
            w.writeUInt32BE(Self.magic)            // 0x00 h_magic
            w.writeUInt32BE(Self.superblockV2)     // 0x04 h_blocktype
            w.writeUInt32BE(0)                     // 0x08 h_sequence
            w.writeUInt32BE(UInt32(Ext4.blockSize)) // 0x0C s_blocksize
            w.writeUInt32BE(blockCount)            // 0x10 s_maxlen
            w.writeUInt32BE(1)                     // 0x14 s_first: the first log block
            w.writeUInt32BE(1)                     // 0x18 s_sequence: first transaction expected
            w.writeUInt32BE(0)                     // 0x1C s_start: 0, the journal is empty
            w.writeUInt32BE(0)                     // 0x20 s_errno
            w.writeUInt32BE(0)                     // 0x24 s_feature_compat
            w.writeUInt32BE(0)                     // 0x28 s_feature_incompat
            w.writeUInt32BE(0)                     // 0x2C s_feature_ro_compat
            w.writeFixed(uuid, width: 16)          // 0x30 s_uuid
            w.writeUInt32BE(1)                     // 0x40 s_nr_users: this file system
            w.writeUInt32BE(0)                     // 0x44 s_dynsuper
            w.writeUInt32BE(0)                     // 0x48 s_max_transaction
            w.writeUInt32BE(0)                     // 0x4C s_max_trans_data
            w.writeZeros(0x100 - w.bytes.count)    // 0x50 s_checksum_type ... 0xFC s_checksum
            w.writeFixed(uuid, width: 16)          // 0x100 s_users[0]
            w.writeZeros(Ext4.blockSize - w.bytes.count)
            return w.bytes
        }
    }
}
