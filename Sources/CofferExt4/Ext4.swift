import CofferCore

/// A formatter for an empty ext4 file system, small enough to live in the guest agent.
///
/// The guest makes ext4 inside an encrypted volume on first use (decision 0023), on a device that
/// reads as zeros because it was just wiped through dm-crypt. mke2fs would bring glibc and
/// e2fsprogs into the measured initramfs; this writes the few non-zero metadata blocks itself
/// (decision 0027). The layout is the classic one, described in the kernel's
/// Documentation/filesystems/ext4/ (overview.rst, blockgroup.rst) and fs/ext4/ext4.h:
///
///     group 0:  [1 KiB pad | superblock][GDT][block bitmap][inode bitmap][inode table][data ...]
///     group g:  ([superblock copy][GDT copy])[block bitmap][inode bitmap][inode table][data ...]
///
/// where only groups 0, 1 and powers of 3, 5 and 7 carry the copies (sparse_super).
public enum Ext4 {
    /// The one block size written: 4 KiB, the page size, and dm-crypt's sector size here.
    public static let blockSize = 4096
    /// log2(blockSize) - 10, the superblock's s_log_block_size.
    static let logBlockSize: UInt32 = 2
    /// Blocks per group: the bits in one block bitmap block.
    static let blocksPerGroup = UInt64(blockSize * 8)
    /// 256-byte inodes: room for 32 bytes of extra fields (nanosecond times, crtime).
    static let inodeSize = 256
    /// i_extra_isize: the extra fields of ext4.h's struct ext4_inode up to i_projid.
    static let extraInodeSize: UInt16 = 32
    /// One inode for every 16 KiB of the device, mke2fs's default inode_ratio.
    static let bytesPerInode: UInt64 = 16384
    /// Inodes below 11 are reserved (ext4.h EXT4_GOOD_OLD_FIRST_INO); 11 is lost+found.
    static let firstInode: UInt32 = 11

    /// The smallest device formatted: 16 MiB, below which the journal and the metadata are most of it.
    public static let minimumSize: UInt64 = 16 << 20
    /// One past the largest device: 2^32 blocks of 4 KiB. Without the 64bit feature block numbers
    /// are 32 bits wide, and Coffer does not write 64-bit group descriptors.
    public static let sizeLimit: UInt64 = 16 << 40
}

/// Reserved inode numbers (ext4.h, "Special inodes numbers").
extension Ext4 {
    enum InodeNumber {
        static let root: UInt32 = 2
        static let journal: UInt32 = 8
        static let lostAndFound: UInt32 = 11
    }
}
