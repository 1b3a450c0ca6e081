import CofferTestSupport
import CofferVMM
import Foundation
import Testing

/// Coffer's newc writer read back by the reference cpio (GNU cpio).
@Suite struct CPIOArchiveTests {
    func sample(reversed: Bool = false) throws -> CPIOArchive {
        var archive = CPIOArchive()
        var steps: [(inout CPIOArchive) throws -> Void] = [
            { try $0.add("init", permissions: 0o755, .file(Array("#!/bin/true\n".utf8))) },
            { try $0.add("dev/console", permissions: 0o600, .characterDevice(major: 5, minor: 1)) },
            { try $0.add("proc/self/exe", permissions: 0o777, .symlink(target: "/init")) },
            { try $0.add("etc/coffer/modules", permissions: 0o644, .file(Array("/lib/a.ko\n".utf8))) },
            { try $0.add("lib/odd-size", permissions: 0o640, .file([1, 2, 3, 4, 5])) },
            { try $0.add("sys", permissions: 0o755, .directory) },
        ]
        if reversed { steps.reverse() }
        for step in steps { try step(&archive) }
        return archive
    }

    @Test func cpioListsEveryEntryWithItsTypeModeOwnerAndDevice() throws {
        let directory = try TemporaryDirectory("cpio")
        try Data(try sample().encoded()).write(to: URL(fileURLWithPath: directory.file("a.cpio")))
        let listing = try sh("cpio -itv --quiet < a.cpio", directory: directory.path)
        let lines = listing.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        // `mode links owner group [major, minor | size] Mon day year name [-> target]`; mtime 0 is 1970.
        func name(_ fields: [String]) -> String { fields.firstIndex(of: "1970").map { fields[$0 + 1] } ?? "?" }
        let byName = Dictionary(lines.map { (name($0), $0) }, uniquingKeysWith: { a, _ in a })
        #expect(lines.map(name) == [
            "dev", "dev/console", "etc", "etc/coffer", "etc/coffer/modules", "init", "lib", "lib/odd-size",
            "proc", "proc/self", "proc/self/exe", "sys",
        ])
        #expect(byName["init"]?[0] == "-rwxr-xr-x")
        #expect(byName["dev/console"].map { Array($0[0...5]).joined(separator: " ") } == "crw------- 1 root root 5, 1")
        #expect(byName["proc/self/exe"].map { "\($0[0]) \($0.suffix(2).joined(separator: " "))" } == "lrwxrwxrwx -> /init")
        #expect(byName["etc"]?[0] == "drwxr-xr-x")
        #expect(lines.allSatisfy { $0[2] == "root" && $0[3] == "root" })
    }

    @Test func cpioExtractsTheFileContents() throws {
        let directory = try TemporaryDirectory("cpio")
        try Data(try sample().encoded()).write(to: URL(fileURLWithPath: directory.file("a.cpio")))
        try sh("mkdir out && cd out && cpio -id --quiet --no-absolute-filenames init lib/odd-size etc/coffer/modules < ../a.cpio", directory: directory.path)
        #expect(FileManager.default.contents(atPath: directory.file("out/init")) == Data("#!/bin/true\n".utf8))
        #expect(FileManager.default.contents(atPath: directory.file("out/lib/odd-size")) == Data([1, 2, 3, 4, 5]))
        #expect(FileManager.default.contents(atPath: directory.file("out/etc/coffer/modules")) == Data("/lib/a.ko\n".utf8))
    }

    @Test func theBytesDependOnlyOnTheContentNotOnTheOrderOfAdding() throws {
        let forward = try sample().encoded(), backward = try sample(reversed: true).encoded()
        #expect(forward == backward)
        #expect(forward.count % 4 == 0)
        var changed = try sample()
        try changed.add("lib/odd-size", permissions: 0o640, .file([1, 2, 3, 4, 6]))
        #expect(changed.encoded() != forward)
    }

    @Test func refusesDotDotAndFilesUsedAsDirectories() throws {
        var archive = CPIOArchive()
        #expect(throws: VMMError.self) { try archive.add("../etc/passwd", permissions: 0o644, .file([])) }
        #expect(throws: VMMError.self) { try archive.add("", permissions: 0o644, .file([])) }
        try archive.add("init", permissions: 0o755, .file([]))
        #expect(throws: VMMError.self) { try archive.add("init/x", permissions: 0o644, .file([])) }
    }
}
