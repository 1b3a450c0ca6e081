import CofferCore
@testable import CofferExt4
import CofferTestSupport
import Foundation
import Testing

/// Refusals, determinism, and what the formatter writes, on a recording device.
@Suite struct Ext4FormatterInputTests {
    static let mib: UInt64 = 1 << 20

    func format(_ device: RecordingDevice, size: UInt64 = 64 << 20, label: String = "data", uuid: [UInt8] = FormattedImage.uuid) throws {
        try Ext4.format(device, size: size, label: label, uuid: uuid, rootOwner: (uid: 0, gid: 0), now: FormattedImage.now)
    }

    @Test(arguments: [0, 16 * mib - 1, 16 << 40, UInt64.max])
    func sizesOutsideTheRangeAreRefused(size: UInt64) throws {
        let device = RecordingDevice()
        #expect(throws: Ext4Error.sizeOutOfRange(size: size)) { try format(device, size: size) }
        #expect(device.writes.isEmpty)
        let message = Ext4Error.sizeOutOfRange(size: size).cofferError
        #expect(message.code == .invalidInput)
        #expect(message.message.contains("at least 16 MiB"))
    }

    /// 16 TiB less one block: 2^32 - 1 blocks, the most 32-bit block numbers address. Checked on
    /// the layout alone: a debug build takes minutes to write 131072 groups' bitmaps.
    @Test func theLargestSizeIsLaidOut() throws {
        let geometry = try Ext4.Geometry(size: (16 << 40) - 4096)
        #expect(geometry.blockCount == UInt64(UInt32.max))
        #expect(geometry.groupCount == 131072)
        #expect(geometry.inodesPerGroup == 8192)
        let plan = try Ext4.Plan(geometry: geometry)
        #expect(plan.journal.reduce(0) { $0 + $1.length } == 262144)
        // A gigabyte journal crosses group metadata: more extents than an inode holds, so one leaf.
        #expect(plan.journalLeaf != nil)
        #expect(plan.freeBlockCount < geometry.blockCount)
    }

    @Test func badLabelsAndUUIDsAreRefused() throws {
        let device = RecordingDevice()
        #expect(throws: Ext4Error.labelTooLong(bytes: 17)) { try format(device, label: "seventeen-bytes!!") }
        #expect(throws: Ext4Error.labelTooLong(bytes: 18)) { try format(device, label: "ééééééééé") }
        #expect(throws: Ext4Error.uuidLength(15)) { try format(device, uuid: Array(repeating: 1, count: 15)) }
        #expect(throws: Ext4Error.nullUUID) { try format(device, uuid: Array(repeating: 0, count: 16)) }
        #expect(device.writes.isEmpty)
    }

    @Test func twoFormatsWriteTheSameBytes() throws {
        let first = RecordingDevice(), second = RecordingDevice()
        try format(first, size: 300 * Self.mib)
        try format(second, size: 300 * Self.mib)
        #expect(first.writes.map(\.offset) == second.writes.map(\.offset))
        #expect(first.writes.map(\.bytes) == second.writes.map(\.bytes))
        let directory = try TemporaryDirectory("coffer-ext4")
        try FormattedImage.format(path: directory.file("a.img"), size: 64 * Self.mib)
        try FormattedImage.format(path: directory.file("b.img"), size: 64 * Self.mib)
        #expect(try sh("cmp '\(directory.file("a.img"))' '\(directory.file("b.img"))' && echo same") == "same\n")
    }

    /// The device is taken to be zero-filled: every write carries data, few bytes are written, and
    /// the primary superblock is the last write, after a flush.
    @Test func writesOnlyNonZeroMetadata() throws {
        let device = RecordingDevice()
        try format(device, size: 1024 * Self.mib)
        for write in device.writes {
            #expect(write.bytes.contains { $0 != 0 }, "an all-zero write at \(write.offset)")
        }
        let total = device.writes.reduce(0) { $0 + $1.bytes.count }
        #expect(total < 512 * 1024, "wrote \(total) bytes to format 1 GiB")
        #expect(device.writes.last?.offset == 1024)
        #expect(device.writes.last?.bytes.count == 1024)
        #expect(device.flushes == 2)
    }

    /// A fixed small format's digest; the bytes feed no measurement, so this guards only against
    /// unnoticed layout changes.
    @Test func goldenDigestOfA16MiBFormat() throws {
        let directory = try TemporaryDirectory("coffer-ext4")
        let path = directory.file("golden.img")
        try FormattedImage.format(path: path, size: 16 * Self.mib, label: "golden", owner: (0, 0))
        let digest = try sh("sha256sum '\(path)'").prefix(64)
        #expect(digest == "6997c01c633d8dfb7dcfdb0b6bcbda608bd58f61956542d390673be5fbcbe08a")
    }
}

/// The file-descriptor device reports a failed write with the operation and offset, as an error.
@Suite struct FileDescriptorBlockDeviceTests {
    @Test func aDescriptorThatRefusesWritesFailsWithAnError() throws {
        let directory = try TemporaryDirectory("coffer-ext4")
        let path = try directory.write("ro.img", "")
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(throws: Ext4Error.io(operation: "pwrite", offset: 4096, errno: EBADF)) {
            try FileDescriptorBlockDevice(descriptor: fd).write([1, 2, 3], at: 4096)
        }
        #expect(throws: Ext4Error.self) {
            try Ext4.format(
                FileDescriptorBlockDevice(descriptor: fd), size: 16 << 20, label: "", uuid: FormattedImage.uuid,
                rootOwner: (uid: 0, gid: 0), now: 0)
        }
    }
}
