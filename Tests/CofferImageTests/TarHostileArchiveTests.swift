import CofferImage
import Foundation
import Testing

/// Hostile archives, made with Python's tarfile (GNU tar refuses to make most of them): each is
/// refused with an error naming the member, and nothing lands outside the extraction root.
@Suite("Tar extraction refuses hostile archives")
struct TarHostileArchiveTests {
    /// Writes `hostile.tar` from Python statements using `add(name, kind, data, link)`.
    private func makeArchive(_ scratch: ArchiveScratch, _ members: String) throws {
        try ArchiveTool.python("""
            import tarfile, io
            t = tarfile.open("hostile.tar", "w", format=tarfile.GNU_FORMAT)
            def add(name, kind=tarfile.REGTYPE, data=b"", link=""):
                i = tarfile.TarInfo(name); i.type = kind; i.linkname = link; i.size = len(data); i.mode = 0o644
                t.addfile(i, io.BytesIO(data) if data else None)
            \(members)
            t.close()
            """, in: scratch.path)
    }

    /// Extracts into `scratch/box/root` and returns the error; the scratch directory outside the
    /// root must hold nothing new.
    private func refuse(_ scratch: ArchiveScratch, member: String, because reason: String) throws {
        let root = try scratch.directory("box/root")
        let error = #expect(throws: ArchiveError.self) {
            try TarExtractor(root: root).extract(archivePath: scratch.file("hostile.tar"))
        }
        let message = error?.description ?? ""
        #expect(message.contains("'\(member)'"), "error names the member: \(message)")
        #expect(message.contains(reason), "error says why: \(message)")
        #expect(message.contains("hostile.tar"), "error names the archive: \(message)")
        #expect(archiveListing(scratch.file("box")) == ["root"], "nothing written beside the root")
        #expect(!scratch.exists("evil") && !FileManager.default.fileExists(atPath: "/evil"))
    }

    @Test("a member named ../evil")
    func parentComponent() throws {
        let scratch = try ArchiveScratch()
        try makeArchive(scratch, "add(\"ok\", data=b\"fine\")\nadd(\"../evil\", data=b\"pwned\")")
        try refuse(scratch, member: "../evil", because: "'..'")
    }

    @Test("a member with an absolute name")
    func absoluteName() throws {
        let scratch = try ArchiveScratch()
        try makeArchive(scratch, "add(\"/evil\", data=b\"pwned\")")
        try refuse(scratch, member: "/evil", because: "absolute")
    }

    @Test("a symlink climbing above the root, then a member written through it")
    func escapingSymlink() throws {
        let scratch = try ArchiveScratch()
        try makeArchive(scratch, "add(\"a\", tarfile.SYMTYPE, link=\"../../..\")\nadd(\"a/evil\", data=b\"pwned\")")
        try refuse(scratch, member: "a", because: "climbs above the root")
    }

    @Test("a deeper symlink climbing out by one level too many")
    func deeperEscapingSymlink() throws {
        let scratch = try ArchiveScratch()
        try makeArchive(scratch, "add(\"usr/lib/up\", tarfile.SYMTYPE, link=\"../../../evil\")")
        try refuse(scratch, member: "usr/lib/up", because: "climbs above the root")
    }

    @Test("a hard link to /etc/passwd")
    func hardLinkOutside() throws {
        let scratch = try ArchiveScratch()
        try makeArchive(scratch, "add(\"passwd\", tarfile.LNKTYPE, link=\"/etc/passwd\")")
        try refuse(scratch, member: "passwd", because: "hard link target '/etc/passwd'")
    }

    @Test("a hard link to a file no earlier member made")
    func hardLinkToUnknown() throws {
        let scratch = try ArchiveScratch()
        try makeArchive(scratch, "add(\"shadow\", tarfile.LNKTYPE, link=\"etc/shadow\")")
        try refuse(scratch, member: "shadow", because: "not an earlier member")
    }

    @Test("a symlink loop, then a member written through it")
    func symlinkLoop() throws {
        let scratch = try ArchiveScratch()
        try makeArchive(scratch, "add(\"loop\", tarfile.SYMTYPE, link=\"loop/x\")\nadd(\"loop/x/y\", data=b\"z\")")
        try refuse(scratch, member: "loop/x/y", because: "too many levels of symlinks")
    }

    /// Absolute symlinks are root-relative in the guest: writing through one stays in the root.
    @Test("writes through absolute and relative symlinks stay inside the root")
    func writesThroughLinksAreClamped() throws {
        let scratch = try ArchiveScratch()
        let outside = try scratch.directory("outside")
        try makeArchive(scratch, """
            add("lib", tarfile.SYMTYPE, link="usr/lib")
            add("lib/libc.so", data=b"libc")
            add("out", tarfile.SYMTYPE, link="\(outside)")
            add("out/planted", data=b"stays inside")
            add("usr/up", tarfile.SYMTYPE, link="../..")
            """)
        // "usr/up -> ../.." climbs above the root: refused before anything is written through it.
        let root = try scratch.directory("box/root")
        let error = #expect(throws: ArchiveError.self) {
            try TarExtractor(root: root).extract(archivePath: scratch.file("hostile.tar"))
        }
        #expect(error?.description.contains("'usr/up'") == true)
        #expect(try scratch.read("box/root/usr/lib/libc.so") == "libc")
        #expect(try scratch.read("box/root\(outside)/planted") == "stays inside")
        #expect(archiveListing(outside).isEmpty, "the real directory the link names is untouched")
    }

    /// Directory times are set at the end; by then a later member may have turned the path into
    /// a symlink to a host directory, whose time must not change.
    @Test("a directory replaced by a symlink to outside before its time is set")
    func deferredTimesStayInside() throws {
        let scratch = try ArchiveScratch()
        let outside = try scratch.directory("outside/sub")
        try ArchiveTool.run("touch", ["-d", "2020-01-01 00:00:00 UTC", outside, scratch.file("outside")])
        try makeArchive(scratch, """
            i = tarfile.TarInfo("d"); i.type = tarfile.DIRTYPE; i.mtime = 5; i.mode = 0o755; t.addfile(i)
            i = tarfile.TarInfo("d/sub"); i.type = tarfile.DIRTYPE; i.mtime = 5; i.mode = 0o755; t.addfile(i)
            add("d", tarfile.SYMTYPE, link="\(scratch.file("outside"))")
            """)
        let root = try scratch.directory("box/root")
        try TarExtractor(root: root).extract(archivePath: scratch.file("hostile.tar"))
        #expect(ArchiveFileStatus(outside)?.info.st_mtim.tv_sec == 1_577_836_800)
        #expect(ArchiveFileStatus(scratch.file("outside"))?.info.st_mtim.tv_sec == 1_577_836_800)
        #expect(archiveSymlinkTarget(root + "/d") == scratch.file("outside"))
    }

    /// A symlink that already exists in the staging tree (from an earlier archive or layer) and
    /// points outside is followed only inside the root.
    @Test("a symlink already in the root that points outside is clamped to the root")
    func preexistingLinkIsClamped() throws {
        let scratch = try ArchiveScratch()
        let outside = try scratch.directory("outside")
        let root = try scratch.directory("box/root")
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "../../outside")
        try FileManager.default.createSymbolicLink(atPath: root + "/abs", withDestinationPath: outside)
        try makeArchive(scratch, "add(\"escape/one\", data=b\"1\")\nadd(\"abs/two\", data=b\"2\")")
        try TarExtractor(root: root).extract(archivePath: scratch.file("hostile.tar"))
        #expect(archiveListing(outside).isEmpty)
        #expect(try scratch.read("box/root/outside/one") == "1")
        #expect(try scratch.read("box/root\(outside)/two") == "2")
    }
}
