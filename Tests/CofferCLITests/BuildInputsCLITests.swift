import Foundation
import Testing
import CofferTestSupport

/// Every kind of `coffer build` input, end to end through the real executable: real gcc-compiled
/// programs, real `tar` archives, an OCI layout made with Python, a Cofferfile. The image is then
/// unpacked with erofs-utils' own `fsck.erofs --extract` and compared with what went in, and the
/// dynamic program is run from the unpacked tree with `chroot`, which proves its loader finds
/// every library where the image put it.
@Suite struct BuildInputsCLITests: CofferCLIHarness {
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
        // Exact entries, with the image's user and workdir filled in by the builder.
        #expect(config.exec == .init(mode: "exact", entries: [
            .init(argv: ["/usr/bin/su"], trailing_args: false, env: [], user: "1234:1234", cwd: "/home/u"),
            .init(argv: ["/bin/cat", "/proc/meminfo"], trailing_args: false, env: [], user: "1234:1234", cwd: "/home/u"),
        ]))
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

    // MARK: Interrupted builds

    /// Ctrl-C mid-build removes the build directory at once and exits 130 with one line.
    @Test func interruptedBuildCleansUpAtOnce() throws {
        let home = try TemporaryDirectory("home"), inputs = try TemporaryDirectory("inputs")
        try sh("truncate -s 256M big.bin", directory: inputs.path)
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: coffer)
        slow.arguments = ["build", "--no-sign", "--file", "\(inputs.path)/big.bin:/big.bin"]
        slow.environment = ProcessInfo.processInfo.environment.merging(["COFFER_HOME": home.path]) { $1 }
        let errors = Pipe()
        slow.standardOutput = FileHandle.nullDevice
        slow.standardError = errors
        try slow.run()
        defer { if slow.isRunning { kill(slow.processIdentifier, SIGKILL); slow.waitUntilExit() } }
        let temporary = "\(home.path)/tmp"
        var waited = 0
        while ((try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []).isEmpty && slow.isRunning && waited < 20_000 {
            usleep(1000)
            waited += 1
        }
        kill(slow.processIdentifier, SIGINT)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        slow.waitUntilExit()
        #expect(slow.terminationReason == .exit && slow.terminationStatus == 130)
        #expect(stderr == "coffer: interrupted; the build was abandoned and nothing was added\n")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? ["?"]).isEmpty)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(home.path)/images")) ?? []).isEmpty)
    }

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
}
