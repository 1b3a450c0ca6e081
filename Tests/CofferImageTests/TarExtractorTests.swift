import CofferImage
import Foundation
import Testing

/// Archives made by GNU tar (plain, gzip, multi-member gzip) extract to the tree that was packed,
/// with modes, owners, times, links and special files.
@Suite("Tar extraction of real tar archives")
struct TarExtractorTests {
    /// A source tree with the kinds of member a root file system holds.
    private func makeSourceTree(_ scratch: ArchiveScratch) throws {
        try scratch.write("src/etc/hostname", "coffer\n")
        try scratch.write("src/usr/bin/tool", "#!/bin/sh\necho tool\n")
        try scratch.write("src/usr/lib/libx.so.1", String(repeating: "x", count: 200_000))
        let long = String(repeating: "d", count: 120)
        try scratch.write("src/deep/\(long)/\(long)/file.txt", "long name\n")
        try scratch.directory("src/var/empty")
        chmod(scratch.file("src/usr/bin/tool"), 0o4755)
        chmod(scratch.file("src/var/empty"), 0o1777)
        try FileManager.default.createSymbolicLink(atPath: scratch.file("src/lib"), withDestinationPath: "usr/lib")
        try FileManager.default.createSymbolicLink(atPath: scratch.file("src/etc/abs"), withDestinationPath: "/etc/hostname")
        link(scratch.file("src/usr/lib/libx.so.1"), scratch.file("src/usr/lib/libx-hard.so"))
        mkfifo(scratch.file("src/var/fifo"), 0o640)
        try ArchiveTool.run("touch", ["-h", "-d", "2001-02-03 04:05:06 UTC", "--", "etc/hostname", "var/empty", "lib"], in: scratch.file("src"))
    }

    private func checkExtractedTree(_ root: String) throws {
        #expect(try String(contentsOfFile: root + "/etc/hostname", encoding: .utf8) == "coffer\n")
        let tool = try #require(ArchiveFileStatus(root + "/usr/bin/tool"))
        #expect(tool.permissions == 0o4755, "setuid bit kept")
        #expect(tool.info.st_uid == 1234 && tool.info.st_gid == 5678, "numeric owner from the archive")
        #expect(ArchiveFileStatus(root + "/var/empty")?.permissions == 0o1777)
        #expect(ArchiveFileStatus(root + "/var/empty")?.info.st_mtim.tv_sec == 981_173_106, "directory time set after its contents")
        #expect(ArchiveFileStatus(root + "/etc/hostname")?.info.st_mtim.tv_sec == 981_173_106)
        #expect(ArchiveFileStatus(root + "/lib")?.info.st_mtim.tv_sec == 981_173_106, "symlink's own time")
        #expect(archiveSymlinkTarget(root + "/lib") == "usr/lib")
        #expect(archiveSymlinkTarget(root + "/etc/abs") == "/etc/hostname")
        let lib = try #require(ArchiveFileStatus(root + "/usr/lib/libx.so.1"))
        let hard = try #require(ArchiveFileStatus(root + "/usr/lib/libx-hard.so"))
        #expect(lib.info.st_size == 200_000)
        #expect(lib.info.st_ino == hard.info.st_ino, "hard link shares the inode")
        #expect(ArchiveFileStatus(root + "/var/fifo")?.type == S_IFIFO)
        let long = String(repeating: "d", count: 120)
        #expect(try String(contentsOfFile: root + "/deep/\(long)/\(long)/file.txt", encoding: .utf8) == "long name\n")
    }

    @Test("plain tar in GNU and pax formats", arguments: ["gnu", "posix"])
    func plainTar(format: String) throws {
        let scratch = try ArchiveScratch()
        try makeSourceTree(scratch)
        try ArchiveTool.run("tar", ["--format=\(format)", "--owner=1234", "--group=5678", "--numeric-owner",
                             "-cf", scratch.file("rootfs.tar"), "-C", scratch.file("src"), "."])
        let root = try scratch.directory("root")
        var reports: [TarProgress] = []
        let summary = try TarExtractor(root: root).extract(archivePath: scratch.file("rootfs.tar")) { reports.append($0) }
        try checkExtractedTree(root)
        #expect(summary.hardLinks == 1 && summary.symlinks == 2 && summary.specialFiles == 1)
        #expect(summary.dataBytes == 200_000 + 7 + 20 + 10)
        #expect(reports.count == summary.members + 1, "one report per member, and a final one")
        #expect(reports.last?.archiveBytesRead == reports.last?.archiveSize)
        #expect(reports.last?.members == summary.members && reports.last?.dataBytes == summary.dataBytes)
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.members <= $1.members && $0.dataBytes <= $1.dataBytes })
    }

    @Test("tar czf output, and a multi-member gzip of the same tar")
    func gzipTar() throws {
        let scratch = try ArchiveScratch()
        try makeSourceTree(scratch)
        try ArchiveTool.run("tar", ["--owner=1234", "--group=5678", "--numeric-owner",
                             "-czf", scratch.file("rootfs.tar.gz"), "-C", scratch.file("src"), "."])
        let root = try scratch.directory("root")
        try TarExtractor(root: root).extract(archivePath: scratch.file("rootfs.tar.gz"))
        try checkExtractedTree(root)

        // The same tar split in two and gzipped piecewise: concatenated members are one stream.
        try ArchiveTool.run("tar", ["--owner=1234", "--group=5678", "--numeric-owner",
                             "-cf", scratch.file("rootfs.tar"), "-C", scratch.file("src"), "."])
        try ArchiveTool.run("sh", ["-c", "head -c 100000 rootfs.tar | gzip > multi.gz && tail -c +100001 rootfs.tar | gzip >> multi.gz"], in: scratch.path)
        let second = try scratch.directory("root2")
        try TarExtractor(root: second).extract(archivePath: scratch.file("multi.gz"))
        try checkExtractedTree(second)
    }

    @Test("later members replace earlier ones of any type")
    func laterMembersReplace() throws {
        let scratch = try ArchiveScratch()
        try ArchiveTool.python("""
            import tarfile, io
            def add(t, name, kind=tarfile.REGTYPE, data=b"", link=""):
                i = tarfile.TarInfo(name); i.type = kind; i.linkname = link; i.size = len(data); i.mode = 0o644
                t.addfile(i, io.BytesIO(data) if data else None)
            with tarfile.open("replace.tar", "w", format=tarfile.GNU_FORMAT) as t:
                add(t, "x", data=b"first")
                add(t, "x", data=b"second")
                add(t, "d", tarfile.DIRTYPE); add(t, "d/inner", data=b"gone")
                add(t, "d", data=b"now a file")
                add(t, "passwd", tarfile.SYMTYPE, link="/etc/passwd")
                add(t, "passwd", data=b"not through the link")
            """, in: scratch.path)
        let root = try scratch.directory("root")
        let before = try String(contentsOfFile: "/etc/passwd", encoding: .utf8)
        try TarExtractor(root: root).extract(archivePath: scratch.file("replace.tar"))
        #expect(try scratch.read("root/x") == "second")
        #expect(try scratch.read("root/d") == "now a file")
        #expect(try scratch.read("root/passwd") == "not through the link")
        #expect(try String(contentsOfFile: "/etc/passwd", encoding: .utf8) == before)
    }

    @Test("devices, base-256 owner ids and pax times from Python's tarfile")
    func devicesAndLargeIDs() throws {
        let scratch = try ArchiveScratch()
        try ArchiveTool.python("""
            import tarfile, io
            with tarfile.open("dev.tar", "w", format=tarfile.GNU_FORMAT) as t:
                i = tarfile.TarInfo("dev/null"); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; i.mode = 0o666
                t.addfile(i)
                i = tarfile.TarInfo("dev/loop7"); i.type = tarfile.BLKTYPE; i.devmajor = 7; i.devminor = 7; i.mode = 0o660
                t.addfile(i)
                i = tarfile.TarInfo("big-ids"); i.uid = 3000000; i.gid = 4000000; i.size = 2
                t.addfile(i, io.BytesIO(b"hi"))
            with tarfile.open("pax.tar", "w", format=tarfile.PAX_FORMAT) as t:
                i = tarfile.TarInfo("timed"); i.mtime = 1234567890.5; i.size = 1; i.uid = 9000000
                t.addfile(i, io.BytesIO(b"t"))
            """, in: scratch.path)
        let root = try scratch.directory("root")
        try TarExtractor(root: root).extract(archivePath: scratch.file("dev.tar"))
        try TarExtractor(root: root).extract(archivePath: scratch.file("pax.tar"))
        let null = try #require(ArchiveFileStatus(root + "/dev/null"))
        #expect(null.type == S_IFCHR && null.info.st_rdev == makedevice(1, 3) && null.permissions == 0o666)
        #expect(ArchiveFileStatus(root + "/dev/loop7")?.type == S_IFBLK)
        #expect(ArchiveFileStatus(root + "/big-ids")?.info.st_uid == 3_000_000)
        #expect(ArchiveFileStatus(root + "/big-ids")?.info.st_gid == 4_000_000)
        let timed = try #require(ArchiveFileStatus(root + "/timed"))
        #expect(timed.info.st_mtim.tv_sec == 1_234_567_890 && timed.info.st_mtim.tv_nsec == 500_000_000)
        #expect(timed.info.st_uid == 9_000_000)
    }

    @Test("file capabilities and user attributes from pax SCHILY.xattr records; others dropped")
    func extendedAttributes() throws {
        let scratch = try ArchiveScratch()
        try ArchiveTool.python("""
            import tarfile, io, struct
            cap = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)  # cap_net_raw+ep, revision 2
            with tarfile.open("xattr.tar", "w", format=tarfile.PAX_FORMAT) as t:
                i = tarfile.TarInfo("bin/ping"); i.size = 4; i.mode = 0o755
                i.pax_headers = {"SCHILY.xattr.security.capability": cap.decode("utf-8", "surrogateescape"),
                                 "SCHILY.xattr.user.note": "hello",
                                 "SCHILY.xattr.trusted.overlay.opaque": "y"}
                t.addfile(i, io.BytesIO(b"ping"))
            """, in: scratch.path)
        let root = try scratch.directory("root")
        try TarExtractor(root: root).extract(archivePath: scratch.file("xattr.tar"))
        let attributes = try ArchiveTool.run("python3", ["-c", """
            import os, sys
            p = sys.argv[1]
            print(" ".join(sorted(n + "=" + os.getxattr(p, n).hex() for n in os.listxattr(p))))
            """, root + "/bin/ping"])
        #expect(attributes.trimmingCharacters(in: .whitespacesAndNewlines)
                == "security.capability=0100000200200000000000000000000000000000 user.note=68656c6c6f")
    }

    private func makedevice(_ major: UInt64, _ minor: UInt64) -> dev_t {
        dev_t((major & 0xFFF) << 8 | (minor & 0xFF))
    }
}
