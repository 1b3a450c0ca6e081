import CofferTestSupport
import Foundation
import Testing

/// `coffer run` through the real executable: images built with `coffer build`, booted with
/// Debian's cloud kernel and the static agent under QEMU, the program run on the dm-verity root.
@Suite(.serialized) struct RunCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")
    /// The kernel cache the VM tests share, so the kernel is downloaded once per checkout.
    let kernelHome = VMHomes.coffer
    static let developmentLine = "coffer: development mode: plain VM under "

    /// A fresh store that shares the cached guest kernel.
    /// A fresh store whose kernel cache is the VM tests' shared one: Coffer's kernel (the default),
    /// or with `debian` Debian's cloud kernel and its modules (`coffer setup --kernel-package`).
    func storeWithKernel(debian: Bool = false) throws -> TemporaryDirectory {
        let kernels = debian ? VMHomes.debian : kernelHome
        let setup = try run(coffer, ["setup", "--home", kernels] + (debian ? ["--kernel-package", VMHomes.debianPackage] : []))
        guard setup.status == 0 else { throw TestFailure("coffer setup failed: \(setup.stderr)") }
        let home = try TemporaryDirectory("coffer-home")
        try FileManager.default.createSymbolicLink(atPath: home.file("kernel"), withDestinationPath: "\(kernels)/kernel")
        return home
    }

    static let twoStreams = """
        #include <stdio.h>
        int main(int argc, char **argv) {
            printf("to stdout: %d argument(s)\\n", argc);
            fflush(stdout);
            fprintf(stderr, "to stderr\\n");
            return 7;
        }

        """

    @Test func aStaticProgramsOutputAndExitCodeComeBackExactly() throws {
        let home = try storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        let program = try compile(Self.twoStreams, to: "two-streams", flags: ["-static"], in: work)
        let image = try build(home.path, ["--binary", "\(program):/two-streams", "-t", "two:latest"])

        let result = try coffer(home.path, ["run", "two:latest"])
        #expect(result.status == 7, "\(result.stderr)")
        #expect(result.stdout == "to stdout: 1 argument(s)\n")
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first?.hasPrefix(Self.developmentLine) == true, "\(result.stderr)")
        #expect(lines.dropFirst().joined(separator: "\n") == "to stderr\n")

        // Arguments after the image replace the image's cmd and follow its entrypoint.
        let withArguments = try coffer(home.path, ["run", image.id, "a", "b"])
        #expect(withArguments.status == 7)
        #expect(withArguments.stdout == "to stdout: 3 argument(s)\n")
    }

    /// A guest that cannot check in within the boot deadline is killed, the error quotes its
    /// console, the VM is recorded dead with that error, and no process is left behind.
    @Test func aBootDeadlineThatPassesKillsTheGuestAndQuotesItsConsole() throws {
        let home = try storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        let program = try compile(Self.twoStreams, to: "two-streams", flags: ["-static"], in: work)
        _ = try build(home.path, ["--binary", "\(program):/two-streams", "-t", "slow:1"])
        let result = try coffer(home.path, ["run", "--boot-timeout", "0.3", "slow:1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("coffer: the guest did not check in within 0.3 s; it was killed. Last console lines:"), "\(result.stderr)")
        let listed = try coffer(home.path, ["ps", "-a", "--format", "json"])
        #expect(listed.stdout.contains("\"status\" : \"dead\""), "\(listed.stdout)")
        #expect(listed.stdout.contains("did not check in within 0.3 s"), "\(listed.stdout)")
        #expect(try processes(using: home.path).isEmpty)
    }

    /// The argument follows the image's entrypoint (/usr/bin/sqrt), as in Docker.
    @Test func aDynamicGlibcProgramRunsWithItsLibrariesFromTheImage() throws {
        let home = try storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        let program = try compile(Program.squareRoot, to: "sqrt", flags: ["-lm"], in: work)
        _ = try build(home.path, ["--binary", "\(program):/usr/bin/sqrt", "-t", "sqrt:1"])

        let result = try coffer(home.path, ["run", "--verbose", "sqrt:1", "16"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "sqrt 4.000\n")
        #expect(result.stderr.contains("coffer: launch measurement sha256:"))
        #expect(result.stderr.contains("coffer.verity="))
    }

    @Test func aShellOnABusyboxRootRunsACommandLine() throws {
        let home = try storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        try FileManager.default.createDirectory(atPath: work.file("root/bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: work.file("root/bin/busybox"))
        try FileManager.default.createSymbolicLink(atPath: work.file("root/bin/sh"), withDestinationPath: "busybox")
        try sh("tar -C \(work.file("root")) -cf \(work.file("root.tar")) .")
        _ = try build(home.path, ["--rootfs", work.file("root.tar"), "-t", "busybox:1", "-e", "GREETING=hello from the image"])

        let result = try coffer(home.path, [
            "run", "-e", "EXTRA=given", "busybox:1", "/bin/sh", "-c",
            "echo hi; echo \"$GREETING, $EXTRA\"; echo written > /tmp/f && cat /tmp/f; touch /new && echo root writable; echo oops >&2; exit 3",
        ])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stdout == "hi\nhello from the image, given\nwritten\nroot writable\n")
        #expect(result.stderr.hasSuffix("oops\n"))
        // A numeric user and group, and a workload killed by a signal: 128 + 9, as a shell says.
        let killed = try coffer(home.path, ["run", "--user", "1000:100", "busybox:1", "/bin/sh", "-c", "id -u; id -g; kill -9 $$"])
        #expect(killed.status == 137, "\(killed.stderr)")
        #expect(killed.stdout == "1000\n100\n")
        // A name that is not in PATH is the agent's error, reported in one line.
        let missing = try coffer(home.path, ["run", "busybox:1", "no-such-program"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("could not start the workload: no-such-program: not found"), "\(missing.stderr)")
    }

    /// One byte flipped in the program's first block after the build: the guest's verity device
    /// refuses the block, execve fails with EIO, and `coffer run` reports an integrity error.
    @Test func aTamperedRootIsRefusedByDmVerityInTheGuest() throws {
        let home = try storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        let program = try compile(Self.twoStreams, to: "two-streams", flags: ["-static"], in: work)
        let image = try build(home.path, ["--binary", "\(program):/two-streams", "-t", "victim:1"])
        let before = try coffer(home.path, ["run", "victim:1"])
        #expect(before.status == 7, "\(before.stderr)")

        // The only ELF file in the image: its header starts the program's first data block.
        let erofs = rootfsImage(home.path, image.id)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: erofs)))
        let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
        let offset = try #require((0..<(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual(magic) })
        bytes[offset + 200] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: erofs))

        let after = try coffer(home.path, ["run", "victim:1"])
        #expect(after.status == 1)
        #expect(after.stdout.isEmpty)
        #expect(after.stderr.contains("coffer: integrity error in the guest: executing /two-streams: Input/output error"), "\(after.stderr)")
        #expect(after.stderr.contains("dm-verity"))
    }

    /// A start-up step's failure names the step and its reason, in `coffer run`'s error and in
    /// `coffer ps -a`: a byte flipped in the EROFS superblock (block 0) makes dm-verity refuse the
    /// block, so mounting the image fails while opening the verity root (reason `root`).
    @Test func aStartUpFailureNamesItsStepInRunAndPs() throws {
        let home = try storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        let program = try compile(Self.twoStreams, to: "two-streams", flags: ["-static"], in: work)
        let image = try build(home.path, ["--binary", "\(program):/two-streams", "-t", "broken:1"])
        let erofs = rootfsImage(home.path, image.id)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: erofs)))
        bytes[1024 + 8] ^= 0x01  // the superblock's checksum field (EROFS: superblock at offset 1024)
        try Data(bytes).write(to: URL(fileURLWithPath: erofs))

        let step = "the guest's start-up failed opening the dm-verity root (reason root): mount erofs on /coffer/lower: Input/output error"
        let result = try coffer(home.path, ["run", "--name", "broken", "broken:1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("coffer: \(step)"), "\(result.stderr)")
        let table = try coffer(home.path, ["ps", "-a"]).stdout
        #expect(table.contains("Dead: \(step)"), "\(table)")
        #expect(try coffer(home.path, ["rm", "broken"]).status == 0)
    }

    /// One byte flipped in a data file's block: the workload's read fails with EIO, its output and
    /// status still come back, and `coffer run` reports the integrity error (the agent reads the
    /// verity device's status after the workload ends) instead of the workload's status.
    @Test func aTamperedFileReadByTheWorkloadIsReportedAsAnIntegrityError() throws {
        let home = try storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        try FileManager.default.createDirectory(atPath: work.file("root/bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: work.file("root/bin/busybox"))
        try FileManager.default.createSymbolicLink(atPath: work.file("root/bin/sh"), withDestinationPath: "busybox")
        try work.write("root/data.txt", String(repeating: "Z", count: 16384))
        try sh("tar -C \(work.file("root")) -cf \(work.file("root.tar")) .")
        let image = try build(home.path, ["--rootfs", work.file("root.tar"), "-t", "data:1"])
        let script = "wc -c < /data.txt; echo done; exit 4"
        let before = try coffer(home.path, ["run", "data:1", "/bin/sh", "-c", script])
        #expect(before.status == 4, "\(before.stderr)")
        #expect(before.stdout == "16384\ndone\n")

        // A block made only of the file's bytes: no metadata, no other file shares it.
        let erofs = rootfsImage(home.path, image.id)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: erofs)))
        let block = try #require((0..<bytes.count / 4096).first { index in
            bytes[index * 4096..<(index + 1) * 4096].allSatisfy { $0 == UInt8(ascii: "Z") }
        })
        bytes[block * 4096 + 7] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: erofs))

        let after = try coffer(home.path, ["run", "data:1", "/bin/sh", "-c", script])
        #expect(after.status == 1)
        // busybox wc prints 0 after the failed read; the file's real size never comes back.
        #expect(after.stdout.hasSuffix("done\n") && !after.stdout.contains("16384"), "\(after.stdout)")
        #expect(after.stderr.contains("Input/output error"), "\(after.stderr)")
        #expect(after.stderr.contains(
            "coffer: integrity error in the guest: the root file system failed dm-verity verification while the workload ran (it exited with status 4)"),
            "\(after.stderr)")
    }

    /// SIGTERM to `coffer run` while the workload runs goes to the workload (as `docker run`
    /// passes it on): it dies of it, coffer exits 128 + 15, and no process is left behind.
    @Test func aTerminatedRunLeavesNoVMBehind() throws {
        let home = try storeWithKernel()
        let work = try TemporaryDirectory("coffer-run")
        try FileManager.default.createDirectory(atPath: work.file("root/bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: work.file("root/bin/busybox"))
        try sh("tar -C \(work.file("root")) -cf \(work.file("root.tar")) .")
        _ = try build(home.path, ["--rootfs", work.file("root.tar"), "-t", "sleeper:1"])

        let process = Process()
        process.executableURL = URL(fileURLWithPath: coffer)
        process.arguments = ["run", "--home", home.path, "sleeper:1", "/bin/busybox", "sleep", "600"]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        // Wait (bounded) for the workload to be started: the agent logs `ready` to the console.
        var started = false
        for _ in 0..<600 where !started {
            usleep(100_000)
            let runs = (try? FileManager.default.contentsOfDirectory(atPath: home.file("vms"))) ?? []
            started = runs.contains { name in
                let console = FileManager.default.contents(atPath: home.file("vms/\(name)/console.log")) ?? Data()
                return String(decoding: console, as: UTF8.self).contains("coffer-agent: ready after")
            }
        }
        #expect(started)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 128 + SIGTERM, "\(stderr)")
        let listed = try coffer(home.path, ["ps", "-a"])
        #expect(listed.stdout.contains("Exited (143)"), "\(listed.stdout)")
        let survivors = try processes(using: home.path)
        #expect(survivors.isEmpty, "processes still using \(home.path): \(survivors)")
    }

    /// The processes whose command line mentions `path`: a VM's monitor or its QEMU.
    func processes(using path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { name in
            guard Int(name) != nil, let line = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return false }
            return String(decoding: line, as: UTF8.self).contains(path)
        }
    }
}
