import CofferTestSupport
import Foundation
import Testing

/// Coffer's own guest kernel (issue 13), the default (decision 0040): `coffer kernel build` from
/// linux-source-6.12 and the fragment, cached in the VM tests' home (`VMHomes.coffer`), so only the
/// first run on a machine builds it (minutes; `coffer setup` there builds the same one). The built bzImage boots real images with no modules at all, a
/// published port works on it, and its bytes are the recorded ones (reproducibility).
@Suite(.serialized)
struct GuestKernelCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")
    let runs = RunCLITests()
    let lifecycle = LifecycleCLITests()

    /// What `coffer kernel build` printed, by its first word.
    struct Built {
        var vmlinuz: String
        var sha256: String
        var key: String
        var release: String
    }

    /// Builds (or finds cached) the kernel in the shared VM home; the build runs at the lowest CPU
    /// priority so the other suites' VMs keep theirs.
    func builtKernel() throws -> Built {
        let result = try run("/usr/bin/nice", ["-n", "19", coffer, "kernel", "build", "--home", runs.kernelHome])
        guard result.status == 0 else { throw TestFailure("coffer kernel build failed: \(result.stderr)") }
        var fields: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2 { fields[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        guard let vmlinuz = fields["vmlinuz"], let sha256 = fields["sha256"], let key = fields["key"], let kernel = fields["kernel"] else {
            throw TestFailure("unexpected output of coffer kernel build: \(result.stdout)")
        }
        return Built(vmlinuz: vmlinuz, sha256: sha256, key: key, release: String(kernel.prefix { $0 != " " }))
    }

    @Test func aSecondBuildOfTheSameKeyIsTheCachedOne() throws {
        let first = try builtKernel()
        let again = try run(coffer, ["kernel", "build", "--home", runs.kernelHome])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("already cached"), "\(again.stdout)")
        #expect(again.stdout.contains("sha256   \(first.sha256)"))
        // Quiet when not on a terminal: nothing but the result on stdout, nothing on stderr.
        #expect(again.stderr.isEmpty, "\(again.stderr)")
        let digest = try sh("sha256sum \(first.vmlinuz)").prefix(64)
        #expect(String(digest) == first.sha256)
        #expect(first.release.hasPrefix("coffer-6.12."))
        // No module tree: the initramfs of a launch on it carries none.
        #expect(!FileManager.default.fileExists(atPath: "\(runs.kernelHome)/kernel/\(first.release)/modules"))
    }

    /// The build's bytes are the ones recorded for this source version and fragment (built on
    /// another machine, at another path and time): the build is reproducible. A new source package
    /// version or fragment has no record yet and fails here until one is added, after
    /// `scripts/check-kernel-reproducible` showed two builds agree (docs/decisions/0028).
    @Test func theBzImageIsTheRecordedOneForItsSourceAndFragment() throws {
        let built = try builtKernel()
        let records = try String(contentsOfFile: "\(Repository.root())/Sources/CofferVMM/Kernel/coffer-guest.sha256", encoding: .utf8)
        let recorded = records.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line -> (String, String)? in
            let fields = line.split(separator: " ")
            return fields.count >= 2 ? (String(fields[0]), String(fields[1])) : nil
        }
        let expected = recorded.first { $0.0 == built.key }?.1
        #expect(expected != nil, "no recorded bzImage digest for build key \(built.key): add one after scripts/check-kernel-reproducible")
        if let expected { #expect(built.sha256 == expected, "the build is not reproducible: key \(built.key)") }
    }

    @Test func aWorkloadRunsOnItWithoutModulesAndTCBSaysSo() throws {
        let kernel = try builtKernel()
        // A store whose cache holds both kernels, Coffer's the default: Debian's cloud kernel from
        // the other VM home, for the comparison `coffer tcb` prints.
        let setup = try run(coffer, ["setup", "--home", VMHomes.debian, "--kernel-package", VMHomes.debianPackage])
        guard setup.status == 0 else { throw TestFailure("coffer setup --kernel-package failed: \(setup.stderr)") }
        let debianRelease = try FileManager.default.destinationOfSymbolicLink(atPath: "\(VMHomes.debian)/kernel/default")
        let home = try TemporaryDirectory("coffer-home")
        try FileManager.default.createDirectory(atPath: home.file("kernel"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: home.file("kernel/\(kernel.release)"), withDestinationPath: "\(runs.kernelHome)/kernel/\(kernel.release)")
        try FileManager.default.createSymbolicLink(atPath: home.file("kernel/\(debianRelease)"), withDestinationPath: "\(VMHomes.debian)/kernel/\(debianRelease)")
        try FileManager.default.createSymbolicLink(atPath: home.file("kernel/default"), withDestinationPath: kernel.release)
        let work = try TemporaryDirectory("coffer-own-kernel")
        let program = try compile(RunCLITests.twoStreams, to: "two-streams", flags: ["-static"], in: work)
        _ = try build(home.path, ["--binary", "\(program):/two-streams", "-t", "two:latest"])

        let result = try coffer(home.path, ["run", "--kernel", kernel.vmlinuz, "two:latest", "x"])
        #expect(result.status == 7, "\(result.stderr)")
        #expect(result.stdout == "to stdout: 2 argument(s)\n")

        let tcb = try coffer(home.path, ["tcb", "--format", "json", "--kernel", kernel.vmlinuz, "two:latest"])
        #expect(tcb.status == 0, "\(tcb.stderr)")
        let report = try JSONDecoder().decode(TCBCLITests.Report.self, from: Data(tcb.stdout.utf8))
        #expect(report.kernel.digest == "sha256:\(kernel.sha256)")
        #expect(report.initramfs.modules.isEmpty)
        #expect(report.guestUserspace.bytes == report.initramfs.agent.size)

        // Beside it, Debian's cloud kernel from the same cache: sizes and option counts from each
        // kernel's own config, and the whole TCB (kernel + initramfs).
        struct Comparison: Decodable {
            struct Kernel: Decodable { var builtInOptions: Int?; var moduleOptions: Int? }
            struct Cached: Decodable { var release: String; var path: String; var size: Int; var builtInOptions: Int?; var moduleOptions: Int?; var hasModules: Bool }
            var kernel: Kernel
            var guestTCBBytes: Int
            var cachedKernels: [Cached]
        }
        let comparison = try JSONDecoder().decode(Comparison.self, from: Data(tcb.stdout.utf8))
        #expect(comparison.guestTCBBytes == report.kernel.size + report.initramfs.size)
        let config = try String(contentsOfFile: "\(runs.kernelHome)/kernel/\(kernel.release)/config", encoding: .utf8)
        let builtIn = config.split(separator: "\n").filter { $0.hasPrefix("CONFIG_") && $0.hasSuffix("=y") }.count
        #expect(comparison.kernel.builtInOptions == builtIn)
        #expect(comparison.kernel.moduleOptions == 0)
        let own = try #require(comparison.cachedKernels.first { $0.release == kernel.release })
        #expect(!own.hasModules && own.builtInOptions == builtIn && own.size == report.kernel.size)
        let debian = try #require(comparison.cachedKernels.first { $0.release.hasSuffix("-cloud-amd64") }, "\(comparison.cachedKernels)")
        #expect(debian.hasModules && (debian.moduleOptions ?? 0) > 0, "\(debian)")
        let table = try coffer(home.path, ["tcb", "--kernel", kernel.vmlinuz, "two:latest"])
        #expect(table.stdout.contains("guest TCB"), "\(table.stdout)")
        #expect(table.stdout.contains("\(kernel.release) (this launch)"), "\(table.stdout)")
    }

    @Test func aPublishedPortReachesAServerOnIt() throws {
        let kernel = try builtKernel()
        let home = try runs.storeWithKernel()
        try lifecycle.busyboxImage(home.path, tag: "web:1", exec: "deny")
        let port = try freePort()
        let started = try coffer(home.path, [
            "run", "-d", "--name", "own-kernel-site", "--kernel", kernel.vmlinuz, "-p", "\(port):80", "web:1", "/bin/sh", "-c",
            "mkdir /www && echo hello from the coffer kernel > /www/index.html && exec /bin/busybox httpd -f -p 80 -h /www",
        ])
        #expect(started.status == 0, "\(started.stderr)")
        let page = try poll(for: 10) {
            try run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port) && printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"])
        } until: { $0.stdout.contains("hello from the coffer kernel") }
        let logs = try coffer(home.path, ["logs", "own-kernel-site"])
        #expect(page.stdout.contains("hello from the coffer kernel"), "\(page) \(logs.stdout) \(logs.stderr)")
        #expect(try coffer(home.path, ["rm", "-f", "own-kernel-site"]).status == 0)
    }

    /// configfs-tsm in a real guest with no TEE provider (issue 13). A hostile host adds
    /// `coffer.tee=snp` to a stopped plain VM's command line (changing its measurement) and asks for
    /// evidence: the agent, finding the TEE the line names, asks the real kernel's TSM report
    /// interface, which has no provider on this plain VM. The answer is a clear "no TEE", at once,
    /// never a hang or a report from elsewhere.
    @Test func theRealTSMInterfaceWithoutAProviderIsAClearNoTEE() throws {
        _ = try builtKernel()
        let home = try runs.storeWithKernel()
        try lifecycle.busyboxImage(home.path, tag: "tsm:1", exec: "deny")
        let started = try coffer(home.path, ["run", "-d", "--name", "tsm", "tsm:1", "/bin/sh", "-c", "sleep 600"])
        #expect(started.status == 0, "\(started.stderr)")
        defer { _ = try? coffer(home.path, ["rm", "-f", "tsm"]) }
        // On the plain launch the agent does not ask: the measured line names no TEE.
        let plain = try coffer(home.path, ["attest", "vm", "--nonce", "c0ffee", "-o", home.file("plain.bin"), "tsm"])
        #expect(plain.stderr.contains("this launch is not confidential (no coffer.tee= on its measured command line)"), "\(plain.stderr)")
        #expect(try coffer(home.path, ["stop", "tsm"]).status == 0)

        let listed = try coffer(home.path, ["ps", "-a", "--format", "json"])
        let vms = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let id = try #require(vms.first?["id"] as? String)
        let specPath = home.file("vms/\(id)/vm.json")
        let spec = try String(contentsOfFile: specPath, encoding: .utf8)
        let tampered = spec.replacingOccurrences(of: "\"coffer.exec=deny\"", with: "\"coffer.exec=deny\", \"coffer.tee=snp\"")
        #expect(tampered != spec)
        try tampered.write(toFile: specPath, atomically: true, encoding: .utf8)
        #expect(try coffer(home.path, ["start", "tsm"]).status == 0)
        let asked = try coffer(home.path, ["attest", "vm", "--nonce", "c0ffee", "-o", home.file("tee.bin"), "tsm"])
        #expect(asked.stderr.contains(
            "the guest has no TEE (the guest kernel's TEE report interface has no provider (mkdir /sys/kernel/config/tsm/report/"), "\(asked.stderr)")
        #expect(asked.stderr.contains("ENXIO), but the measured launch expects sev_guest: not a confidential VM)"), "\(asked.stderr)")
        #expect(asked.stderr.contains("NOT hardware-backed"), "\(asked.stderr)")
    }
}
