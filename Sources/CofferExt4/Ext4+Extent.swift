import CofferCore

/// Extent trees (Documentation/filesystems/ext4/ifork.rst; struct ext4_extent_header,
/// ext4_extent and ext4_extent_idx in fs/ext4/ext4_extents.h). Every structure is 12 bytes:
///
///     header: eh_magic 0xF30A | eh_entries | eh_max | eh_depth (u16 each) | eh_generation (u32)
///     leaf:   ee_block (u32) | ee_len (u16) | ee_start_hi (u16) | ee_start_lo (u32)
///     index:  ei_block (u32) | ei_leaf_lo (u32) | ei_leaf_hi (u16) | ei_unused (u16)
extension Ext4 {
    /// A run of physical blocks.
    struct Extent: Equatable {
        var start: UInt64
        var length: UInt64
    }

    enum ExtentTree {
        static let magic: UInt16 = 0xF30A
        /// An initialised extent covers at most 32768 blocks (a longer ee_len marks it unwritten).
        static let maximumLength: UInt64 = 32768
        /// Entries in i_block: (60 - 12) / 12.
        static let entriesInInode = 4
        /// Entries in one leaf block: (4096 - 12) / 12.
        static let entriesInBlock = (Ext4.blockSize - 12) / 12

        /// `runs` cut into extents no longer than `maximumLength`, in logical order.
        static func extents(of runs: [Extent]) -> [Extent] {
            var result: [Extent] = []
            for run in runs {
                var offset: UInt64 = 0
                while offset < run.length {
                    let length = min(maximumLength, run.length - offset)
                    result.append(Extent(start: run.start + offset, length: length))
                    offset += length
                }
            }
            return result
        }

        /// Whether the extents need a leaf block outside the inode (depth 1).
        static func needsLeafBlock(_ extents: [Extent]) -> Bool { extents.count > entriesInInode }

        /// The 60-byte i_block and, for depth 1, the one leaf block at `leafBlock`. A formatter's
        /// files are the journal and two directories; 340 extents in one leaf cover any of them.
        static func encode(_ extents: [Extent], leafBlock: UInt64?) -> (blockMap: [UInt8], leaf: [UInt8]?) {
            guard let leafBlock, needsLeafBlock(extents) else {
                var w = ByteWriter(capacity: 60)
                header(&w, entries: extents.count, maximum: entriesInInode, depth: 0)
                leaves(&w, extents)
                w.writeZeros(60 - w.bytes.count)
                return (w.bytes, nil)
            }
            precondition(extents.count <= entriesInBlock, "formatter files fit one leaf block")
            var root = ByteWriter(capacity: 60)
            header(&root, entries: 1, maximum: entriesInInode, depth: 1)
            root.writeUInt32LE(0)                                            // ei_block
            root.writeUInt32LE(UInt32(truncatingIfNeeded: leafBlock))        // ei_leaf_lo
            root.writeUInt16LE(UInt16(truncatingIfNeeded: leafBlock >> 32))  // ei_leaf_hi
            root.writeUInt16LE(0)                                            // ei_unused
            root.writeZeros(60 - root.bytes.count)
            var leaf = ByteWriter(capacity: Ext4.blockSize)
            header(&leaf, entries: extents.count, maximum: entriesInBlock, depth: 0)
            leaves(&leaf, extents)
            leaf.writeZeros(Ext4.blockSize - leaf.bytes.count)
            return (root.bytes, leaf.bytes)
        }

        private static func header(_ w: inout ByteWriter, entries: Int, maximum: Int, depth: UInt16) {
            w.writeUInt16LE(magic)               // eh_magic
            w.writeUInt16LE(UInt16(entries))     // eh_entries
            w.writeUInt16LE(UInt16(maximum))     // eh_max
            w.writeUInt16LE(depth)               // eh_depth
            w.writeUInt32LE(0)                   // eh_generation
        }

        private static func leaves(_ w: inout ByteWriter, _ extents: [Extent]) {
            var logical: UInt64 = 0
            for extent in extents {
                w.writeUInt32LE(UInt32(truncatingIfNeeded: logical))           // ee_block
                w.writeUInt16LE(UInt16(extent.length))                        // ee_len
                w.writeUInt16LE(UInt16(truncatingIfNeeded: extent.start >> 32)) // ee_start_hi
                w.writeUInt32LE(UInt32(truncatingIfNeeded: extent.start))     // ee_start_lo
                logical += extent.length
            }
        }
    }
}
