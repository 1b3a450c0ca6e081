import CofferTestSupport
import Foundation
import Testing

/// `coffer tcb` through the real executable, on a real image and each cached kernel (Coffer's,
/// the default, and Debian's cloud kernel with its modules): every
/// digest it prints is the digest of a file on disk, and its launch measurement is the one
/// `coffer run --verbose` reports for the VM it really boots.
@Suite(.serialized) struct TCBCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")
    let agent = "\(Repository.root())/.build-agent/release/coffer-agent"

    /// `coffer tcb --format json`, decoded independently of the command's own types.
    struct Report: Decodable {
        struct Kernel: Decodable { var path: String; var release: String; var size: Int; var digest: String }
        struct File: Decodable { var path: String; var size: Int; var digest: String }
        struct Initramfs: Decodable { var path: String; var size: Int; var digest: String; var agent: File; var modules: [File] }
        struct RootFS: Decodable { var size: Int64; var digest: String; var verityRootHash: String; var verityHashSize: Int64 }
        struct Userspace: Decodable { var bytes: Int; var goalBytes: Int; var withinGoal: Bool }
        var image: String
        var kernel: Kernel
        var initramfs: Initramfs
        var commandLine: String
        var rootfs: RootFS
        var launchMeasurement: String
        var guestUserspace: Userspace
    }

    func size(_ path: String) throws -> Int { try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) }

    @Test(arguments: [false, true])
    func everyDigestIsAFileOnDiskAndTheMeasurementIsWhatRunBoots(debian: Bool) throws {
        let home = try RunCLITests().storeWithKernel(debian: debian)
        let work = try TemporaryDirectory("coffer-tcb")
        let program = try compile("int main(void) { return 0; }\n", to: "true", flags: ["-static"], in: work)
        let image = try build(home.path, ["--binary", "\(program):/bin/true", "--entrypoint", "/bin/true", "-t", "true:1"])

        let result = try coffer(home.path, ["tcb", "--format", "json", "true:1"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(report.image == image.id)

        // The kernel is the cached bzImage.
        #expect(report.kernel.path == home.file("kernel/\(report.kernel.release)/vmlinuz"))
        #expect(report.kernel.digest == (try digest(report.kernel.path)))
        #expect(report.kernel.size == (try size(report.kernel.path)))

        // The initramfs is the cached file; unpacked by cpio, its files are the agent and the
        // kernel's own modules, byte for byte.
        #expect(report.initramfs.path.hasPrefix(home.file("initramfs/")))
        #expect(report.initramfs.digest == (try digest(report.initramfs.path)))
        #expect(report.initramfs.size == (try size(report.initramfs.path)))
        let unpacked = try TemporaryDirectory("coffer-tcb-cpio")
        try sh("cpio -id --quiet < '\(report.initramfs.path)'", directory: unpacked.path)
        #expect(report.initramfs.agent.path == "init")
        #expect(report.initramfs.agent.digest == (try digest(agent)))
        // Both lists together (the network device's modules come last, loaded only with ports)
        // are every module the report names, in order. Coffer's kernel has everything built in:
        // no modules, and nothing in the initramfs but the agent.
        func list(_ name: String) -> String { (try? String(contentsOfFile: unpacked.file(name), encoding: .utf8)) ?? "" }
        #expect(list("etc/coffer/modules") + list("etc/coffer/modules.net") == report.initramfs.modules.map { "/\($0.path)\n" }.joined())
        if debian {
            #expect(report.initramfs.modules.count >= 6)
        } else {
            #expect(report.initramfs.modules.isEmpty && report.kernel.release.hasPrefix("coffer-"), "\(report.kernel.release)")
            #expect(!FileManager.default.fileExists(atPath: unpacked.file("lib/modules")))
        }
        let prefix = "lib/modules/\(report.kernel.release)/"
        for file in [report.initramfs.agent] + report.initramfs.modules {
            #expect(file.digest == (try digest(unpacked.file(file.path))), "\(file.path)")
            #expect(file.size == (try size(unpacked.file(file.path))), "\(file.path)")
            if file.path.hasPrefix(prefix) {
                #expect(file.digest == (try digest(home.file("kernel/\(report.kernel.release)/modules/\(file.path.dropFirst(prefix.count))"))))
            }
        }
        #expect(report.guestUserspace.bytes == report.initramfs.modules.reduce(report.initramfs.agent.size) { $0 + $1.size })
        #expect(report.guestUserspace.goalBytes == 20_000_000)
        #expect(report.guestUserspace.withinGoal == (report.guestUserspace.bytes <= 20_000_000))

        // The root file system and its verity root hash, which the command line carries.
        #expect(report.rootfs.verityRootHash == image.rootHash)
        #expect(report.rootfs.digest == (try digest(rootfsImage(home.path, image.id))))
        #expect(report.commandLine.contains(" coffer.verity=\(image.rootHash),"))

        // The VM `coffer run` boots is the one listed: same measurement, command line, initramfs.
        let run = try coffer(home.path, ["run", "--verbose", "true:1"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("coffer: launch measurement \(report.launchMeasurement)\n"), "\(run.stderr)")
        #expect(run.stderr.contains("coffer:   cmdline   \(report.commandLine)\n"))
        #expect(run.stderr.contains("coffer:   initramfs \(report.initramfs.digest) (cached)\n"))

        // The table says the same.
        let table = try coffer(home.path, ["tcb", "true:1"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("launch measurement  \(report.launchMeasurement)"))
        #expect(table.stdout.contains(report.initramfs.agent.digest))
        #expect(table.stdout.contains("guest userspace"))
    }

    /// `--kernel` boots any bzImage: a copy of the cached one with a byte appended (the
    /// decompressor ignores it) is a different kernel, so `tcb` lists another kernel digest and
    /// launch measurement, and `run` boots it and reports that same measurement.
    @Test func anotherKernelChangesTheLaunchMeasurementAndBoots() throws {
        let home = try RunCLITests().storeWithKernel()
        let work = try TemporaryDirectory("coffer-tcb-kernel")
        let program = try compile("int main(void) { return 3; }\n", to: "three", flags: ["-static"], in: work)
        _ = try build(home.path, ["--binary", "\(program):/three", "--entrypoint", "/three", "-t", "three:1"])
        let cached = try JSONDecoder().decode(Report.self, from: Data(try coffer(home.path, ["tcb", "--format", "json", "three:1"]).stdout.utf8))

        let kernelDirectory = home.file("kernel/\(cached.kernel.release)")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cached.kernel.path))
        bytes.append(0)
        let other = work.file("bzImage")
        try bytes.write(to: URL(fileURLWithPath: other))
        // Coffer's kernel has no module tree; a kernel with one would name it.
        let modules = "\(kernelDirectory)/modules"
        let flags = ["--kernel", other] + (FileManager.default.fileExists(atPath: modules) ? ["--kernel-modules", modules] : [])

        let result = try coffer(home.path, ["tcb", "--format", "json"] + flags + ["three:1"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(report.kernel.path == other)
        #expect(report.kernel.digest == (try digest(other)))
        #expect(report.kernel.digest != cached.kernel.digest)
        // Read from the bzImage's setup header: Debian's cache entries are named by it, Coffer's
        // as coffer-<it>-<build key>.
        #expect(report.kernel.release == cached.kernel.release || cached.kernel.release.hasPrefix("coffer-\(report.kernel.release)-"),
            "\(report.kernel.release) \(cached.kernel.release)")
        #expect(report.launchMeasurement != cached.launchMeasurement)
        #expect(report.commandLine == cached.commandLine)

        let run = try coffer(home.path, ["run", "--verbose"] + flags + ["three:1"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("coffer: launch measurement \(report.launchMeasurement)\n"), "\(run.stderr)")

        // Bad kernel flags are named before anything is created.
        let missing = try coffer(home.path, ["run", "--kernel", work.file("no-such-bzImage"), "three:1"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no-such-bzImage"), "\(missing.stderr)")
        let notKernel = try coffer(home.path, ["run", "--kernel", program, "three:1"])
        #expect(notKernel.stderr.contains("not a Linux bzImage"), "\(notKernel.stderr)")
        let notTree = try coffer(home.path, ["run", "--kernel", other, "--kernel-modules", work.path, "three:1"])
        #expect(notTree.stderr.contains("no modules.builtin"), "\(notTree.stderr)")
        let orphan = try coffer(home.path, ["run", "--kernel-modules", "\(kernelDirectory)/modules", "three:1"])
        #expect(orphan.stderr.contains("--kernel-modules needs --kernel"), "\(orphan.stderr)")
        let listed = try coffer(home.path, ["ps", "-a", "-q"])
        #expect(listed.stdout.split(separator: "\n").count == 1, "\(listed.stdout)")
    }

    /// The launch measurement says what runs, not only which image: the workload (program,
    /// arguments, environment, working directory, user) is bound on the measured command line, so
    /// other arguments or `-e` give another measurement, the one `run` with them reports. A host
    /// that rewrites the workload of a created VM but keeps its measured command line gets a
    /// guest that refuses to start it.
    @Test func theMeasurementBindsTheWorkloadAndTheGuestEnforcesIt() throws {
        let home = try RunCLITests().storeWithKernel()
        let work = try TemporaryDirectory("coffer-tcb-workload")
        let program = try compile("#include <stdio.h>\nint main(int c, char **v) { printf(\"%d\\n\", c); return 0; }\n", to: "count", flags: ["-static"], in: work)
        _ = try build(home.path, ["--binary", "\(program):/count", "--entrypoint", "/count", "-t", "count:1"])
        func measurement(_ arguments: [String]) throws -> Report {
            let result = try coffer(home.path, ["tcb", "--format", "json"] + arguments)
            guard result.status == 0 else { throw TestFailure("tcb \(arguments): \(result.stderr)") }
            return try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        }
        let plain = try measurement(["count:1"])
        let withArgument = try measurement(["count:1", "extra"])
        let withEnv = try measurement(["-e", "LD_PRELOAD=/evil.so", "count:1"])
        let asOtherUser = try measurement(["-u", "1000", "count:1"])
        let all = [plain, withArgument, withEnv, asOtherUser]
        #expect(Set(all.map(\.launchMeasurement)).count == 4)
        #expect(Set(all.map(\.kernel.digest)).count == 1 && Set(all.map(\.initramfs.digest)).count == 1)
        for report in all { #expect(report.commandLine.contains(" coffer.workload="), "\(report.commandLine)") }

        // `run` with the same arguments boots that measurement.
        let run = try coffer(home.path, ["run", "--verbose", "--name", "counted", "count:1", "extra"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "2\n")
        #expect(run.stderr.contains("coffer: launch measurement \(withArgument.launchMeasurement)\n"), "\(run.stderr)")

        // A hostile host edits the stopped VM's workload and starts it again: its kernel command
        // line (and so its measurement) still binds the old workload, and the agent refuses.
        let listed = try coffer(home.path, ["ps", "-a", "--format", "json"])
        let vms = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let id = try #require(vms.first?["id"] as? String)
        let specPath = home.file("vms/\(id)/vm.json")
        let spec = try String(contentsOfFile: specPath, encoding: .utf8)
        let tampered = spec.replacingOccurrences(of: "\"extra\"", with: "\"other\"")
        #expect(tampered != spec)
        try tampered.write(toFile: specPath, atomically: true, encoding: .utf8)
        let started = try coffer(home.path, ["start", "-a", "counted"])
        #expect(started.status != 0)
        #expect(started.stdout.isEmpty, "\(started.stdout)")
        #expect(started.stderr.contains("is not the one the launch measured"), "\(started.stderr)")
        #expect(try RunCLITests().processes(using: home.path).isEmpty)
    }

    @Test func anUnknownImageIsNamed() throws {
        let home = try TemporaryDirectory("coffer-home")
        let result = try coffer(home.path, ["tcb", "no-such:1"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("no-such"))
    }
}
