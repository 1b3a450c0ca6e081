import CofferCore
import CofferExt4
import CofferTestSupport
import Foundation
import Testing

/// The formatter's output checked by e2fsprogs 1.47, the reference implementation.
@Suite struct Ext4FormatterTests {
    static let mib: UInt64 = 1 << 20

    /// Sizes: the minimum, one group, several groups, a gigabyte, a size that is neither a whole
    /// number of groups nor of blocks, and one whose last group is too small and is left out.
    @Test(arguments: [16 * mib, 64 * mib, 300 * mib, 1024 * mib, 200 * mib + 4097, 128 * mib + 100 * 1024])
    func e2fsckFindsNothingToFix(size: UInt64) throws {
        let image = try FormattedImage(size: size)
        let result = try image.check()
        #expect(result.status == 0, "e2fsck -fn exited \(result.status):\n\(result.stdout)\(result.stderr)")
        // A clean check prints the five pass headers and the summary, nothing else.
        let complaints = result.stdout.split(separator: "\n").filter {
            !$0.hasPrefix("Pass ") && !$0.contains("files (") && !$0.contains("Checking")
        }
        #expect(complaints.isEmpty, "e2fsck said: \(complaints)")
    }

    /// From 128 GiB the journal is 1 GiB, crosses eight groups' metadata and needs an extent leaf
    /// block (depth 1); e2fsck walks that tree too.
    @Test func journalWithAnExtentLeafChecksClean() throws {
        let image = try FormattedImage(size: 128 << 30)
        let result = try image.check()
        #expect(result.status == 0, "e2fsck -fn exited \(result.status):\n\(result.stdout)\(result.stderr)")
        #expect(field("Total journal blocks", in: try image.dumpHeader()) == "262144")
        let extents = try image.debugfs("ex <8>").stdout
        #expect(extents.contains(" 0/ 1 "), "no depth-1 tree:\n\(extents)")
    }

    @Test func dumpe2fsShowsFeaturesGeometryLabelAndUUID() throws {
        let size = 300 * Self.mib
        let image = try FormattedImage(size: size, label: "vol-0123456789ab")
        let header = try image.dumpHeader()
        let features = Set((field("Filesystem features", in: header) ?? "").split(separator: " ").map(String.init))
        #expect(features == [
            "has_journal", "ext_attr", "dir_index", "filetype", "extent", "sparse_super", "large_file", "huge_file",
            "dir_nlink", "extra_isize",
        ])
        #expect(field("Block count", in: header) == "\(size / 4096)")
        #expect(field("Block size", in: header) == "4096")
        #expect(field("Inode size", in: header) == "256")
        #expect(field("Filesystem volume name", in: header) == "vol-0123456789ab")
        #expect(field("Filesystem UUID", in: header) == FormattedImage.uuidText)
        #expect(field("Filesystem state", in: header) == "clean")
        #expect(field("Journal inode", in: header) == "8")
    }

    /// The journal is as long as mkfs.ext4 would make it for the same size.
    @Test(arguments: [16 * mib, 200 * mib, 1024 * mib, 4096 * mib])
    func journalLengthMatchesMkfs(size: UInt64) throws {
        let image = try FormattedImage(size: size)
        let reference = image.directory.file("mkfs.img")
        try sh("truncate -s \(size) '\(reference)' && /usr/sbin/mkfs.ext4 -q -F -b 4096 '\(reference)'")
        let ours = field("Total journal blocks", in: try image.dumpHeader())
        let theirs = field("Total journal blocks", in: try run("/usr/sbin/dumpe2fs", ["-h", reference]).stdout)
        #expect(ours != nil)
        #expect(ours == theirs)
        #expect(try image.check().status == 0)
    }

    @Test func rootIsOwnedByTheGivenOwnerAndHoldsLostAndFound() throws {
        let image = try FormattedImage(size: 64 * Self.mib, owner: (1000, 1001))
        let listing = try image.debugfs("ls -l /")
        #expect(listing.status == 0)
        // debugfs ls -l: inode, mode, (type), uid, gid, size, date, name.
        let rows = listing.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            .filter { $0.count >= 6 }
        let byName = Dictionary(rows.map { ($0.last!, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(Set(byName.keys) == [".", "..", "lost+found"], "\(listing.stdout)")
        #expect(byName["."]?.prefix(5) == ["2", "40755", "(2)", "1000", "1001"])
        #expect(byName["lost+found"]?.prefix(5) == ["11", "40700", "(2)", "0", "0"])
        let stat = try image.debugfs("stat /")
        #expect(stat.stdout.contains("User:  1000   Group:  1001"), "\(stat.stdout)")
    }

    /// Owners above 65535 use the high halves of i_uid and i_gid.
    @Test func largeOwnerIdsRoundTrip() throws {
        let image = try FormattedImage(size: 16 * Self.mib, owner: (100_000, 200_000))
        let stat = try image.debugfs("stat /")
        #expect(stat.stdout.contains("User: 100000   Group: 200000"), "\(stat.stdout)")
        #expect(try image.check().status == 0)
    }

    @Test func fileWrittenByDebugfsLeavesTheFileSystemClean() throws {
        let image = try FormattedImage(size: 64 * Self.mib)
        let source = try image.directory.write("hostname", "coffer-guest\n")
        let write = try image.debugfs("write \(source) f", writable: true)
        #expect(write.status == 0, "\(write.stderr)")
        let check = try image.check()
        #expect(check.status == 0, "\(check.stdout)")
        #expect(try image.debugfs("cat /f").stdout == "coffer-guest\n")
    }

    /// The kernel's own ext4 driver mounts it, takes a file and gives it back, and e2fsck finds the
    /// file system clean after the kernel has written it.
    @Test(.enabled(if: LoopMount.available, "mount -o loop needs root and loop devices"))
    func kernelMountsWritesAndReads() throws {
        let image = try FormattedImage(size: 64 * Self.mib)
        let mountPoint = image.directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try sh("mount -t ext4 -o loop '\(image.path)' '\(mountPoint)'")
        var mounted = true
        defer { if mounted { _ = try? sh("umount '\(mountPoint)'") } }
        let contents = String(repeating: "coffer volume\n", count: 10_000)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: "\(mountPoint)/file.txt"))
        try FileManager.default.createDirectory(atPath: "\(mountPoint)/dir/sub", withIntermediateDirectories: true)
        try sh("umount '\(mountPoint)'")
        mounted = false
        try sh("mount -t ext4 -o loop,ro '\(image.path)' '\(mountPoint)'")
        mounted = true
        #expect(try String(contentsOfFile: "\(mountPoint)/file.txt", encoding: .utf8) == contents)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: "\(mountPoint)/dir/sub", isDirectory: &isDirectory) && isDirectory.boolValue)
        try sh("umount '\(mountPoint)'")
        mounted = false
        let check = try image.check()
        #expect(check.status == 0, "\(check.stdout)")
    }
}

enum LoopMount {
    /// Whether this machine lets the tests mount a loop device (root, loop-control, ext4).
    static let available: Bool = {
        guard getuid() == 0, FileManager.default.fileExists(atPath: "/dev/loop-control") else { return false }
        guard let filesystems = try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8) else { return false }
        return filesystems.split(separator: "\n").contains { $0.hasSuffix("\text4") }
    }()
}
