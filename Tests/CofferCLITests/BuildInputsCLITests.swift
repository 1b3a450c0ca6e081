import Foundation
import Testing
import CofferTestSupport

/// Every kind of `coffer build` input, end to end through the real executable: real gcc-compiled
/// programs, real `tar` archives, an OCI layout made with Python, a Cofferfile. The image is then
/// unpacked with erofs-utils' own `fsck.erofs --extract` and compared with what went in, and the
/// dynamic program is run from the unpacked tree with `chroot`, which proves its loader finds
/// every library where the image put it.
@Suite struct BuildInputsCLITests {
    let coffer = Repository.executable("coffer")

    // MARK: Binaries

    @Test func dynamicBinaryBringsItsInterpreterAndLibrariesAtTheLoadersPaths() throws {
        let work = try TemporaryDirectory("binary")
        let program = try compile(Program.squareRoot, to: "calc", flags: ["-lm"], in: work)
        let home = try TemporaryDirectory("home")
        let built = try build(home.path, ["--binary", "\(program):/usr/bin/calc"])
        let manifest = try inspect(home.path, built.id).manifest

        // What the host's loader opens for this program, by the names it opens them under.
        let loaded = try hostLibraries(of: program)
        #expect(loaded.keys.contains("/lib64/ld-linux-x86-64.so.2"))
        #expect(loaded.keys.contains { $0.hasSuffix("/libc.so.6") } && loaded.keys.contains { $0.hasSuffix("/libm.so.6") })

        let root = try extract(home.path, built.id)
        #expect(try digest(root.file("usr/bin/calc")) == digest(program))
        #expect(try mode(root.file("usr/bin/calc")) == 0o755)
        for (guestPath, hostFile) in loaded {
            #expect(try digest(root.path + guestPath) == digest(hostFile), "\(guestPath) holds the host's \(hostFile)")
        }

        #expect(try manifest.inputs.first == .init(kind: "binary", digest: digest(program), destination: "/usr/bin/calc"))
        let libraries = manifest.inputs.filter { $0.kind == "library" }
        #expect(Set(libraries.compactMap(\.destination)) == Set(loaded.keys))
        for library in libraries {
            #expect(try library.digest == digest(loaded[library.destination ?? ""] ?? "/nonexistent"), "\(library)")
        }
        #expect(manifest.config.entrypoint == ["/usr/bin/calc"])
        #expect(manifest.config.cmd.isEmpty)

        // The image's own loader, in the image's own root, finds libm and libc.
        #expect(try sh("chroot \(root.path) /usr/bin/calc 2.25") == "sqrt 1.500\n")
    }

    @Test func staticBinaryComesAlone() throws {
        let work = try TemporaryDirectory("binary")
        let program = try compile(Program.hello, to: "hello", flags: ["-static"], in: work)
        let home = try TemporaryDirectory("home")
        let built = try build(home.path, ["--binary", program])
        let manifest = try inspect(home.path, built.id).manifest
        #expect(try manifest.inputs == [.init(kind: "binary", digest: digest(program), destination: program)])
        #expect(manifest.config.entrypoint == [program], "without DEST an absolute path keeps its place")

        let root = try extract(home.path, built.id)
        #expect(try digest(root.path + program) == digest(program))
        #expect(!FileManager.default.fileExists(atPath: root.file("lib64")), "no loader for a static program")
        #expect(try sh("chroot \(root.path) \(program)") == "static hello\n")
    }

    // MARK: Root file system tarballs

    @Test(arguments: ["plain", "gzip"])
    func rootfsTarballKeepsTypesModesOwnersAndLinks(compression: String) throws {
        let work = try TemporaryDirectory("rootfs")
        try makeTree(in: work)
        let tarball = work.file(compression == "gzip" ? "rootfs.tar.gz" : "rootfs.tar")
        try sh("tar -C tree -c\(compression == "gzip" ? "z" : "")f \(tarball) .", directory: work.path)
        let home = try TemporaryDirectory("home")
        let built = try build(home.path, ["--rootfs", tarball])
        let manifest = try inspect(home.path, built.id).manifest
        #expect(try manifest.inputs == [.init(kind: "rootfs", digest: digest(tarball), destination: nil)])

        let root = try extract(home.path, built.id)
        for path in Self.treePaths {
            let original = FileFacts(work.file("tree/\(path)"))
            var copy = FileFacts(root.file(path))
            // fsck.erofs 1.5 drops setuid bits when it extracts: take the mode from the image's inode.
            let inode = try erofsInode(home.path, built.id, path: "/" + path)
            #expect(inode.mode & S_IFMT == copy?.type, "\(path)")
            copy?.permissions = UInt16(inode.mode & 0o7777)
            #expect(original != nil)
            #expect(copy == original, "\(path)")
        }
        #expect(try erofsInode(home.path, built.id, path: "/usr/bin/su").mode == S_IFREG | 0o4755)
        #expect(FileFacts(root.file("home/u/data"))?.uid == 1234 && FileFacts(root.file("home/u/data"))?.gid == 1234)
        #expect(FileFacts(root.file("bin/motd"))?.link == "../etc/motd")
        // A hard link stays one inode with two names in the EROFS image.
        let motd = try erofsInode(home.path, built.id, path: "/etc/motd")
        let hard = try erofsInode(home.path, built.id, path: "/etc/motd.hard")
        #expect(motd.nid == hard.nid)
        #expect(motd.links == 2)
    }

    /// The same tarball (the same bytes: tar member order is content) built from two places, by two
    /// stores, on two days, is the same image.
    @Test func rootfsBuildIsReproducible() throws {
        let first = try TemporaryDirectory("first"), second = try TemporaryDirectory("second")
        try makeTree(in: first)
        try sh("tar -C tree -czf rootfs.tar.gz .", directory: first.path)
        try sh("cp rootfs.tar.gz \(second.path)/base.tgz", directory: first.path)
        let homeA = try TemporaryDirectory("home"), homeB = try TemporaryDirectory("home")
        let a = try build(homeA.path, ["--rootfs", "rootfs.tar.gz"], directory: first.path)
        let b = try build(homeB.path, ["--rootfs", second.file("base.tgz")], faketime: "2033-03-03 03:03:03")
        #expect(a.id == b.id)
        #expect(a.rootHash == b.rootHash)
        #expect(try digest("\(homeA.path)/images/\(a.id.dropFirst(7))/rootfs.erofs")
            == digest("\(homeB.path)/images/\(b.id.dropFirst(7))/rootfs.erofs"))
    }

    // MARK: OCI image layouts

    @Test(arguments: ["oci", "docker-save"])
    func ociImageGivesItsConfigAndAppliesWhiteouts(format: String) throws {
        let work = try TemporaryDirectory("oci")
        try OCIImageFixture.make(in: work.path, format: format)
        let home = try TemporaryDirectory("home")
        let built = try build(home.path, ["--oci", work.file(format == "oci" ? "layout" : "image.tar")])
        let manifest = try inspect(home.path, built.id).manifest
        #expect(manifest.config.entrypoint == ["/bin/tool"])
        #expect(manifest.config.cmd == ["--serve"])
        #expect(manifest.config.env == ["PATH=/usr/bin:/bin", "MODE=test"])
        #expect(manifest.config.workdir == "/opt")
        #expect(manifest.config.user == "1000:1000")
        #expect(manifest.inputs.map(\.kind) == ["oci"])

        let root = try extract(home.path, built.id)
        for (path, content) in OCIImageFixture.expectedFiles {
            #expect((try? String(contentsOfFile: root.file(path), encoding: .utf8)) == content, "\(path)")
        }
        for path in OCIImageFixture.absentPaths {
            #expect(FileFacts(root.file(path)) == nil, "\(path) was whited out")
        }
    }

    // MARK: Cofferfile

    @Test func cofferfileCombinesRootfsFileAndBinaryWithItsConfigAndName() throws {
        let work = try TemporaryDirectory("cofferfile")
        try makeTree(in: work)
        try sh("tar -C tree -cf base.tar .", directory: work.path)
        _ = try compile(Program.squareRoot, to: "build/calc", flags: ["-lm"], in: work)
        try work.write("conf/motd", "welcome to the image\n")
        let cofferfile = try work.write("Cofferfile", """
            name: demo/calc:1.0
            from:
              rootfs: ./base.tar
            binaries:
              - {src: build/calc, dest: /usr/local/bin/calc}
            files:
              - conf/motd:/etc/motd
            entrypoint: [/usr/local/bin/calc]
            cmd: ["9"]
            env:
              MODE: prod
              LANG: C.UTF-8
            workdir: /home/u
            user: "1234:1234"
            memory: 256M
            exec: [/usr/bin/su, [/bin/cat, /proc/meminfo]]

            """)
        let home = try TemporaryDirectory("home")
        // From another directory: relative paths are the Cofferfile's, not the caller's.
        let built = try build(home.path, ["-f", cofferfile], directory: home.path)
        #expect(built.tags == ["demo/calc:1.0"])
        let inspected = try inspect(home.path, "demo/calc:1.0")
        #expect(inspected.id == built.id && inspected.tags == ["demo/calc:1.0"])
        let config = inspected.manifest.config
        #expect(config.entrypoint == ["/usr/local/bin/calc"])
        #expect(config.cmd == ["9"])
        #expect(config.env == ["MODE=prod", "LANG=C.UTF-8"])
        #expect(config.workdir == "/home/u")
        #expect(config.user == "1234:1234")
        #expect(config.memoryBytes == 256 << 20)
        #expect(config.exec == .init(mode: "prefixes", prefixes: [["/usr/bin/su"], ["/bin/cat", "/proc/meminfo"]]))
        let inputs = inspected.manifest.inputs
        #expect(inputs.prefix(3).map(\.kind) == ["rootfs", "file", "binary"])
        #expect(inputs.dropFirst(3).allSatisfy { $0.kind == "library" } && inputs.count > 4)
        #expect(try inputs[0].digest == digest(work.file("base.tar")))

        let root = try extract(home.path, built.id)
        #expect(try String(contentsOfFile: root.file("etc/motd"), encoding: .utf8) == "welcome to the image\n",
            "the file replaces the base's /etc/motd")
        #expect(FileFacts(root.file("usr/bin/su"))?.content == FileFacts(work.file("tree/usr/bin/su"))?.content, "the base is there")
        #expect(try erofsInode(home.path, built.id, path: "/usr/bin/su").mode == S_IFREG | 0o4755)
        #expect(try sh("chroot \(root.path) /usr/local/bin/calc 9") == "sqrt 3.000\n")
    }

    // MARK: Bad input

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

    // MARK: Interrupted builds

    /// A build killed midway leaves its directory in tmp/; the next build removes it, but never
    /// the directory of a build still running (here: stopped with SIGSTOP, then killed).
    @Test func killedBuildIsSweptByTheNextButALiveOneIsNot() throws {
        let home = try TemporaryDirectory("home"), inputs = try TemporaryDirectory("inputs")
        try sh("truncate -s 256M big.bin && echo small > small.txt", directory: inputs.path)
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: coffer)
        slow.arguments = ["build", "--no-sign", "--file", "\(inputs.path)/big.bin:/big.bin"]
        slow.environment = ProcessInfo.processInfo.environment.merging(["COFFER_HOME": home.path]) { $1 }
        slow.standardOutput = FileHandle.nullDevice
        slow.standardError = FileHandle.nullDevice
        try slow.run()
        defer { if slow.isRunning { kill(slow.processIdentifier, SIGKILL); slow.waitUntilExit() } }

        let temporary = "\(home.path)/tmp"
        func buildDirectories() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []).sorted()
        }
        // The store-wide lock on tmp/ is held only while a build makes and locks its directory:
        // freezing the build inside that window would block every other build.
        func storeLockIsFree() -> Bool {
            let descriptor = open(temporary, O_RDONLY | O_DIRECTORY)
            defer { if descriptor >= 0 { close(descriptor) } }
            return descriptor >= 0 && flock(descriptor, LOCK_EX | LOCK_NB) == 0
        }
        // A deadline, not a timing assertion: wait until the build has its directory, then freeze it.
        var waited = 0
        while (buildDirectories().isEmpty || !storeLockIsFree()) && slow.isRunning && waited < 20_000 {
            usleep(1000)
            waited += 1
        }
        kill(slow.processIdentifier, SIGSTOP)
        let held = buildDirectories()
        #expect(held.count == 1 && held.first?.hasPrefix("build-") == true, "the slow build's directory: \(held)")

        _ = try build(home.path, ["--file", "small.txt:/small.txt"], directory: inputs.path)
        #expect(buildDirectories() == held, "a running build's directory is not swept")

        kill(slow.processIdentifier, SIGKILL)
        slow.waitUntilExit()
        #expect(slow.terminationReason == .uncaughtSignal)
        #expect(buildDirectories() == held, "killed, it left its directory behind")
        _ = try build(home.path, ["--file", "small.txt:/other.txt"], directory: inputs.path)
        #expect(buildDirectories().isEmpty, "the next build removed it")
    }

    // MARK: Running coffer

    func coffer(_ home: String, _ arguments: [String], faketime: String? = nil, directory: String? = nil) throws -> CommandResult {
        if let faketime {
            return try run("faketime", [faketime, coffer] + arguments,
                environment: ["COFFER_HOME": home, "FAKETIME_DONT_FAKE_MONOTONIC": "1"], directory: directory)
        }
        return try run(coffer, arguments, environment: ["COFFER_HOME": home], directory: directory)
    }

    struct BuildOutput: Decodable { var id: String; var rootHash: String; var tags: [String] }

    func build(_ home: String, _ arguments: [String], faketime: String? = nil, directory: String? = nil) throws -> BuildOutput {
        let result = try coffer(home, ["build", "--json", "--no-sign"] + arguments, faketime: faketime, directory: directory)
        guard result.status == 0 else { throw TestFailure("coffer build \(arguments) failed: \(result.stderr)") }
        return try JSONDecoder().decode(BuildOutput.self, from: Data(result.stdout.utf8))
    }

    /// The parts of `coffer inspect` these tests read, decoded independently of the builder's types.
    struct Inspection: Decodable {
        var id: String
        var tags: [String]
        var manifest: Manifest

        struct Manifest: Decodable {
            var config: Config
            var inputs: [Input]
        }

        struct Config: Decodable {
            var entrypoint: [String]
            var cmd: [String]
            var env: [String]
            var workdir: String
            var user: String
            var memoryBytes: UInt64?
            var exec: Exec
        }

        struct Exec: Decodable, Equatable {
            var mode: String
            var prefixes: [[String]]?
        }

        struct Input: Decodable, Equatable, CustomStringConvertible {
            var kind: String
            var digest: String
            var destination: String?
            var description: String { "\(kind) \(destination ?? "-") \(digest)" }
        }
    }

    func inspect(_ home: String, _ image: String) throws -> Inspection {
        let result = try coffer(home, ["inspect", image])
        guard result.status == 0 else { throw TestFailure("coffer inspect \(image) failed: \(result.stderr)") }
        return try JSONDecoder().decode(Inspection.self, from: Data(result.stdout.utf8))
    }

    func rootfsImage(_ home: String, _ id: String) -> String { "\(home)/images/\(id.dropFirst(7))/rootfs.erofs" }

    /// The image's root file system unpacked by erofs-utils (owners and modes kept: tests run as root).
    func extract(_ home: String, _ id: String) throws -> TemporaryDirectory {
        let root = try TemporaryDirectory("extracted")
        try sh("fsck.erofs --extract=\(root.path) --overwrite --preserve \(rootfsImage(home, id))")
        return root
    }

    /// An inode of the image: its number and link count as dump.erofs prints them, and its whole
    /// `i_mode` read from the image itself (dump.erofs prints only the 0777 bits). Every EROFS inode,
    /// compact or extended, starts `i_format` (le16), `i_xattr_icount` (le16), `i_mode` (le16), and
    /// sits at `meta_blkaddr * 4096 + nid * 32` (linux fs/erofs/erofs_fs.h).
    func erofsInode(_ home: String, _ id: String, path: String) throws -> (nid: Int, links: Int, mode: mode_t) {
        let image = rootfsImage(home, id)
        func field(_ text: String, _ name: String) throws -> Int {
            guard let range = text.range(of: "\(name):"),
                let value = Int(text[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber })
            else { throw TestFailure("dump.erofs printed no \(name): \(text)") }
            return value
        }
        let nid = try field(try sh("dump.erofs --path=\(path) \(image)"), "NID")
        let links = try field(try sh("dump.erofs --path=\(path) \(image)"), "Links")
        let metaBlock = try field(try sh("dump.erofs -s \(image)"), "Filesystem inode metadata start block")
        guard let handle = FileHandle(forReadingAtPath: image) else { throw TestFailure("cannot open \(image)") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(metaBlock * 4096 + nid * 32 + 4))
        let bytes = try handle.read(upToCount: 2) ?? Data()
        guard bytes.count == 2 else { throw TestFailure("\(image) ends inside inode \(nid)") }
        return (nid, links, mode_t(bytes[bytes.startIndex]) | mode_t(bytes[bytes.startIndex + 1]) << 8)
    }

    // MARK: Fixtures

    enum Program {
        static let squareRoot = """
            #include <math.h>
            #include <stdio.h>
            #include <stdlib.h>
            int main(int argc, char **argv) {
                double x = argc > 1 ? atof(argv[1]) : 2.0;
                printf("sqrt %.3f\\n", sqrt(x));
                return 0;
            }

            """
        static let hello = "#include <stdio.h>\nint main(void) { puts(\"static hello\"); return 0; }\n"
    }

    func compile(_ source: String, to output: String, flags: [String], in work: TemporaryDirectory) throws -> String {
        let file = try work.write("\(output).c", source)
        let result = try run("gcc", ["-O1", "-o", work.file(output), file] + flags)
        guard result.status == 0 else { throw TestFailure("gcc failed: \(result.stderr)") }
        return work.file(output)
    }

    /// `ldd`'s view of a program: the name each library is loaded under, and the file it really is.
    func hostLibraries(of program: String) throws -> [String: String] {
        var loaded: [String: String] = [:]
        for line in try sh("ldd \(program)").split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let path = words.count >= 3 && words[1] == "=>" ? words[2] : words.first ?? ""
            guard path.hasPrefix("/") else { continue }
            loaded[path] = (path as NSString).resolvingSymlinksInPath
        }
        return loaded
    }

    static let treePaths = [".", "etc", "etc/motd", "etc/motd.hard", "bin", "bin/motd", "usr", "usr/bin", "usr/bin/su", "home", "home/u", "home/u/data"]

    /// A small tree with a symlink, a hard link, a setuid program and files owned by uid 1234.
    func makeTree(in work: TemporaryDirectory) throws {
        try sh("""
            mkdir -p tree/etc tree/bin tree/usr/bin tree/home/u && chmod 0755 tree tree/etc tree/bin tree/usr tree/usr/bin tree/home
            printf 'hello\\n' > tree/etc/motd && chmod 0644 tree/etc/motd && ln tree/etc/motd tree/etc/motd.hard
            ln -s ../etc/motd tree/bin/motd
            printf '#!/bin/sh\\nid\\n' > tree/usr/bin/su && chmod 4755 tree/usr/bin/su
            printf 'secret\\n' > tree/home/u/data && chmod 0640 tree/home/u/data && chmod 0750 tree/home/u
            chown 1234:1234 tree/home/u tree/home/u/data
            """, directory: work.path)
    }

    func digest(_ path: String) throws -> String {
        "sha256:" + (try sh("sha256sum < '\(path)'").prefix(64))
    }

    func mode(_ path: String) throws -> UInt16? { FileFacts(path)?.permissions }
}

/// A hostile tar made with Python's tarfile (GNU tar refuses to write most of these).
/// Members: (name, "file" or "symlink", content or link target).
func hostileTar(in work: TemporaryDirectory, _ members: [(String, String, String)]) throws -> String {
    let output = work.file("hostile.tar")
    let spec = members.map { "(\(pythonString($0.0)), \(pythonString($0.1)), \(pythonString($0.2)))" }.joined(separator: ", ")
    let script = """
        import io, sys, tarfile
        with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
            for name, kind, data in [\(spec)]:
                i = tarfile.TarInfo(name); i.mtime = 1700000000; i.mode = 0o644
                if kind == "symlink":
                    i.type = tarfile.SYMTYPE; i.linkname = data; t.addfile(i)
                else:
                    b = data.encode(); i.size = len(b); t.addfile(i, io.BytesIO(b))

        """
    let result = try run("python3", ["-c", script, output])
    guard result.status == 0 else { throw TestFailure("python3 failed: \(result.stderr)") }
    return output
}

private func pythonString(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}

/// What a comparison of two trees looks at: type, permission bits, owner, and content or link target.
struct FileFacts: Equatable {
    var type: UInt32
    var permissions: UInt16
    var uid: UInt32
    var gid: UInt32
    var size: Int64
    var content: Data?
    var link: String?

    init?(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        type = info.st_mode & S_IFMT
        permissions = UInt16(info.st_mode & 0o7777)
        uid = info.st_uid
        gid = info.st_gid
        size = type == S_IFDIR ? 0 : Int64(info.st_size)
        content = type == S_IFREG ? FileManager.default.contents(atPath: path) : nil
        link = type == S_IFLNK ? try? FileManager.default.destinationOfSymbolicLink(atPath: path) : nil
    }
}
