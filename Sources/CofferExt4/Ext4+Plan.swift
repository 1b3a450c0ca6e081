import CofferCore

/// Which blocks the new file system's files take, and the bitmaps and descriptors that follow.
///
/// Blocks are handed out in order from the end of group 0's inode table, stepping over each
/// later group's metadata: the root directory (1 block), lost+found (4 blocks, 16 KiB like
/// mke2fs's, so e2fsck can reconnect files without growing it), the journal, and, when the
/// journal needs more than the 4 extents an inode holds, one extent leaf block.
extension Ext4 {
    struct Plan {
        static let lostAndFoundBlocks: UInt64 = 4

        let geometry: Geometry
        let rootDirectory: UInt64
        let lostAndFound: UInt64
        let journal: [Extent]
        let journalLeaf: UInt64?
        /// Every run of blocks allocated to a file, in block order.
        let allocated: [Extent]

        init(geometry: Geometry) throws(Ext4Error) {
            self.geometry = geometry
            var cursor = geometry.metadataBlocks(group: 0)
            var allocated: [Extent] = []
            func allocate(_ count: UInt64) throws(Ext4Error) -> [Extent] {
                var runs: [Extent] = []
                var remaining = count
                while remaining > 0 {
                    let group = cursor / Ext4.blocksPerGroup
                    let dataStart = geometry.firstBlock(group: group) + geometry.metadataBlocks(group: group)
                    if cursor < dataStart { cursor = dataStart }
                    let groupEnd = geometry.firstBlock(group: group) + geometry.length(group: group)
                    guard cursor < groupEnd else { throw .sizeOutOfRange(size: geometry.blockCount * UInt64(Ext4.blockSize)) }
                    let length = min(remaining, groupEnd - cursor)
                    if let last = runs.last, last.start + last.length == cursor {
                        runs[runs.count - 1].length += length
                    } else {
                        runs.append(Extent(start: cursor, length: length))
                    }
                    cursor += length
                    remaining -= length
                    if cursor == groupEnd && group + 1 == geometry.groupCount && remaining > 0 {
                        throw .sizeOutOfRange(size: geometry.blockCount * UInt64(Ext4.blockSize))
                    }
                }
                allocated += runs
                return runs
            }
            rootDirectory = try allocate(1)[0].start
            lostAndFound = try allocate(Self.lostAndFoundBlocks)[0].start
            journal = try allocate(geometry.journalBlocks)
            journalLeaf = ExtentTree.needsLeafBlock(ExtentTree.extents(of: journal)) ? try allocate(1)[0].start : nil
            self.allocated = allocated
        }

        /// Blocks of `group` in use by files.
        func fileBlocks(group: UInt64) -> UInt64 {
            let start = geometry.firstBlock(group: group), end = start + geometry.length(group: group)
            return allocated.reduce(0) { sum, run in
                sum + (min(end, run.start + run.length) > max(start, run.start) ? min(end, run.start + run.length) - max(start, run.start) : 0)
            }
        }

        func freeBlocks(group: UInt64) -> UInt64 {
            geometry.length(group: group) - geometry.metadataBlocks(group: group) - fileBlocks(group: group)
        }

        var freeBlockCount: UInt64 { (0..<geometry.groupCount).reduce(0) { $0 + freeBlocks(group: $1) } }

        /// One bit per block of the group; bits past a short last group's end are set, as the
        /// format requires (e2fsck: "padding at end of block bitmap is not set").
        func blockBitmap(group: UInt64) -> [UInt8] {
            var bitmap = [UInt8](repeating: 0, count: Ext4.blockSize)
            let start = geometry.firstBlock(group: group), end = start + geometry.length(group: group)
            Self.setBits(&bitmap, 0..<geometry.metadataBlocks(group: group))
            for run in allocated where run.start < end && run.start + run.length > start {
                Self.setBits(&bitmap, (max(start, run.start) - start)..<(min(end, run.start + run.length) - start))
            }
            Self.setBits(&bitmap, geometry.length(group: group)..<Ext4.blocksPerGroup)
            return bitmap
        }

        /// One bit per inode of the group, the reserved inodes 1-11 in use in group 0, and the
        /// bits past s_inodes_per_group set.
        func inodeBitmap(group: UInt64) -> [UInt8] {
            var bitmap = [UInt8](repeating: 0, count: Ext4.blockSize)
            if group == 0 { Self.setBits(&bitmap, 0..<UInt64(Ext4.firstInode)) }
            Self.setBits(&bitmap, UInt64(geometry.inodesPerGroup)..<Ext4.blocksPerGroup)
            return bitmap
        }

        /// The descriptor table, padded to whole blocks.
        func descriptorTable() -> [UInt8] {
            var w = ByteWriter(capacity: Int(geometry.descriptorBlocks) * Ext4.blockSize)
            for group in 0..<geometry.groupCount {
                GroupDescriptor(
                    blockBitmap: UInt32(geometry.blockBitmap(group: group)),
                    inodeBitmap: UInt32(geometry.inodeBitmap(group: group)),
                    inodeTable: UInt32(geometry.inodeTable(group: group)),
                    freeBlockCount: UInt16(freeBlocks(group: group)),
                    freeInodeCount: UInt16(geometry.inodesPerGroup - (group == 0 ? Ext4.firstInode : 0)),
                    directoryCount: group == 0 ? 2 : 0
                ).encode(into: &w)
            }
            w.writeZeros(Int(geometry.descriptorBlocks) * Ext4.blockSize - w.bytes.count)
            return w.bytes
        }

        /// Sets bits `range` (bit i is bit i % 8 of byte i / 8), whole bytes at a time.
        private static func setBits(_ bitmap: inout [UInt8], _ range: Range<UInt64>) {
            var bit = range.lowerBound
            while bit < range.upperBound && bit % 8 != 0 { bitmap[Int(bit / 8)] |= 1 << UInt8(bit % 8); bit += 1 }
            let wholeBytes = (range.upperBound - bit) / 8
            if wholeBytes > 0 {
                bitmap.replaceSubrange(Int(bit / 8)..<Int(bit / 8 + wholeBytes), with: repeatElement(0xFF, count: Int(wholeBytes)))
                bit += wholeBytes * 8
            }
            while bit < range.upperBound { bitmap[Int(bit / 8)] |= 1 << UInt8(bit % 8); bit += 1 }
        }
    }
}
