import Foundation
import Testing
import CofferTestSupport

/// Bad build inputs through the real `coffer`: each fails with exactly one line on stderr,
/// `coffer: ...`, that names the input (once), and leaves no image, build directory or tag behind.
@Suite struct BuildBadInputCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")

    /// One way to get an input wrong, and the name the error must carry.
    enum BadInput: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case scriptAsBinary, parentMember, absoluteMember, escapingSymlink, unknownLayerType
        case corruptGzip, truncatedTar, cofferfileUnknownKey, directoryAsRootfs, dockerSaveLayerLinkingOut

        var testDescription: String { rawValue }

        /// Makes the input in `work`; returns the build arguments and what stderr must name.
        func prepare(in work: TemporaryDirectory) throws -> (arguments: [String], names: [String]) {
            switch self {
            case .scriptAsBinary:
                let script = try work.write("run.sh", "#!/bin/sh\necho hi\n", mode: 0o755)
                return (["--binary", script], [script])
            case .parentMember:
                return (["--rootfs", try hostileTar(in: work, [("ok.txt", "file", "ok"), ("../evil", "file", "evil")])], ["../evil"])
            case .absoluteMember:
                return (["--rootfs", try hostileTar(in: work, [("ok.txt", "file", "ok"), ("/abs", "file", "abs")])], ["/abs"])
            case .escapingSymlink:
                return (["--rootfs", try hostileTar(in: work, [("dir/a", "symlink", "../../..")])], ["dir/a"])
            case .unknownLayerType:
                try OCIImageFixture.make(in: work.path, format: "oci", variant: "unknown")
                return (["--oci", work.file("layout")], [work.file("layout"), "application/vnd.example.layer.v1.squashfs"])
            case .corruptGzip:
                try sh("mkdir -p tree && seq 1 60000 > tree/numbers && tar -C tree -czf good.tar.gz .", directory: work.path)
                let size = Int(FileFacts(work.file("good.tar.gz"))?.size ?? 0)
                try sh("cp good.tar.gz bad.tar.gz && printf '\\377\\000\\377\\000' | dd of=bad.tar.gz bs=1 seek=\(size / 2) conv=notrunc 2>/dev/null",
                    directory: work.path)
                return (["--rootfs", work.file("bad.tar.gz")], [work.file("bad.tar.gz")])
            case .truncatedTar:
                try sh("mkdir -p tree && seq 1 20000 > tree/numbers && tar -C tree -cf whole.tar . && head -c 30000 whole.tar > cut.tar",
                    directory: work.path)
                return (["--rootfs", work.file("cut.tar")], [work.file("cut.tar")])
            case .directoryAsRootfs:
                try sh("mkdir -p tree/etc && echo x > tree/etc/x", directory: work.path)
                return (["--rootfs", work.file("tree")], [work.file("tree")])
            case .dockerSaveLayerLinkingOut:
                try OCIImageFixture.make(in: work.path, format: "docker-save", variant: "link-out")
                return (["--oci", work.file("image.tar")], [work.file("image.tar")])
            case .cofferfileUnknownKey:
                try work.write("a.txt", "a\n")
                let file = try work.write("Cofferfile", "files: [a.txt]\nentrypont: [/a.txt]\n")
                return (["-f", file], [file, "entrypont"])
            }
        }
    }

    @Test(arguments: BadInput.allCases)
    func badInputIsOneLineNamingItAndLeavesNoPartialImage(_ input: BadInput) throws {
        let work = try TemporaryDirectory("bad")
        let home = try TemporaryDirectory("home")
        let (arguments, names) = try input.prepare(in: work)
        let result = try coffer(home.path, ["build", "-t", "bad:1"] + arguments)
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("coffer: "), "stderr: \(result.stderr)")
        #expect(result.stderr.hasSuffix("\n") && result.stderr.filter { $0 == "\n" }.count == 1, "one line: \(result.stderr)")
        for name in names {
            #expect(result.stderr.components(separatedBy: name).count == 2, "names \(name), once: \(result.stderr)")
        }
        #expect(result.stdout.isEmpty)
        let images = (try? FileManager.default.contentsOfDirectory(atPath: "\(home.path)/images")) ?? []
        let temporary = (try? FileManager.default.contentsOfDirectory(atPath: "\(home.path)/tmp")) ?? []
        #expect(images.isEmpty, "no partial image in images/: \(images)")
        #expect(temporary.isEmpty, "no leftover build directory in tmp/: \(temporary)")
        #expect(!FileManager.default.fileExists(atPath: "\(home.path)/tags/bad"), "no tag")
    }
}
