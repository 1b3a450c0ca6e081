import CofferTestSupport
import Foundation
import Testing

/// `coffer tcb` through the real executable, on a real image and the cached cloud kernel: every
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

    @Test func everyDigestIsAFileOnDiskAndTheMeasurementIsWhatRunBoots() throws {
        let home = try RunCLITests().storeWithKernel()
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
        // are every module the report names, in order.
        let listed = try String(contentsOfFile: unpacked.file("etc/coffer/modules"), encoding: .utf8)
            + String(contentsOfFile: unpacked.file("etc/coffer/modules.net"), encoding: .utf8)
        #expect(listed == report.initramfs.modules.map { "/\($0.path)\n" }.joined())
        #expect(report.initramfs.modules.count >= 6)
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
        let flags = ["--kernel", other, "--kernel-modules", "\(kernelDirectory)/modules"]

        let result = try coffer(home.path, ["tcb", "--format", "json"] + flags + ["three:1"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(report.kernel.path == other)
        #expect(report.kernel.digest == (try digest(other)))
        #expect(report.kernel.digest != cached.kernel.digest)
        #expect(report.kernel.release == cached.kernel.release, "read from the bzImage's setup header")
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

    @Test func anUnknownImageIsNamed() throws {
        let home = try TemporaryDirectory("coffer-home")
        let result = try coffer(home.path, ["tcb", "no-such:1"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("no-such"))
    }
}
