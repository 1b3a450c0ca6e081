/// Feature flags written in the superblock (ext4.h EXT4_FEATURE_*, and
/// Documentation/filesystems/ext4/super.rst, "s_feature_compat" and after).
///
/// Chosen: has_journal, ext_attr, dir_index | filetype, extent | sparse_super, large_file,
/// huge_file, dir_nlink, extra_isize. Left out on purpose: resize_inode (no online growth past
/// the reserved descriptors; a volume is made at its final size), 64bit (not needed below 16 TiB),
/// flex_bg and uninit_bg/metadata_csum (checksums would need crc16/crc32c in the guest; the
/// volume's integrity comes from dm-integrity's HMAC, decision 0023).
extension Ext4 {
    enum CompatibleFeature {
        static let hasJournal: UInt32 = 0x0004
        static let extendedAttributes: UInt32 = 0x0008
        static let directoryIndex: UInt32 = 0x0020
    }

    enum IncompatibleFeature {
        static let fileType: UInt32 = 0x0002
        static let extents: UInt32 = 0x0040
    }

    enum ReadOnlyCompatibleFeature {
        static let sparseSuper: UInt32 = 0x0001
        static let largeFile: UInt32 = 0x0002
        static let hugeFile: UInt32 = 0x0008
        static let directoryLinkCount: UInt32 = 0x0020
        static let extraInodeSize: UInt32 = 0x0040
    }

    static let compatibleFeatures = CompatibleFeature.hasJournal | CompatibleFeature.extendedAttributes
        | CompatibleFeature.directoryIndex
    static let incompatibleFeatures = IncompatibleFeature.fileType | IncompatibleFeature.extents
    static let readOnlyCompatibleFeatures = ReadOnlyCompatibleFeature.sparseSuper | ReadOnlyCompatibleFeature.largeFile
        | ReadOnlyCompatibleFeature.hugeFile | ReadOnlyCompatibleFeature.directoryLinkCount
        | ReadOnlyCompatibleFeature.extraInodeSize
}
