import CofferCore

/// Linear directory blocks of struct ext4_dir_entry_2 (fs/ext4/ext4.h;
/// Documentation/filesystems/ext4/directory.rst): inode (u32), rec_len (u16), name_len (u8),
/// file_type (u8), the name padded to 4 bytes. The last entry's rec_len runs to the block's end.
/// A new directory is small, so no htree (dir_index) node is written.
extension Ext4 {
    enum DirectoryBlock {
        static let fileTypeDirectory: UInt8 = 2   // EXT4_FT_DIR

        /// A block holding `entries` (inode, name), each a directory.
        static func encode(_ entries: [(inode: UInt32, name: String)]) -> [UInt8] {
            var w = ByteWriter(capacity: Ext4.blockSize)
            for (index, entry) in entries.enumerated() {
                let name = Array(entry.name.utf8)
                let length = (8 + name.count + 3) / 4 * 4
                let recordLength = index == entries.count - 1 ? Ext4.blockSize - w.bytes.count : length
                w.writeUInt32LE(entry.inode)
                w.writeUInt16LE(UInt16(recordLength))
                w.writeUInt8(UInt8(name.count))
                w.writeUInt8(fileTypeDirectory)
                w.writeFixed(name, width: recordLength - 8)
            }
            return w.bytes
        }

        /// A block with no entries: one unused entry (inode 0) spanning it.
        static var empty: [UInt8] {
            var w = ByteWriter(capacity: Ext4.blockSize)
            w.writeUInt32LE(0)
            w.writeUInt16LE(UInt16(Ext4.blockSize))
            w.writeZeros(Ext4.blockSize - 6)
            return w.bytes
        }
    }
}
