import CofferTestSupport
import Foundation
import Testing

/// containerd (Debian's, with its runc shim v2) calling `coffer-runtime` as its runc binary, the
/// way a containerd or Kubernetes node would configure it (`BinaryName`, here `ctr run
/// --runc-binary`): a private containerd per test, on its own socket, root and state.
@Suite(.serialized) struct ContainerdTests {
    /// A containerd of our own, stopped (and its leftovers gone) when the test ends.
    final class Containerd {
        let directory: TemporaryDirectory
        let process = Process()
        var socket: String { directory.file("containerd.sock") }

        init() throws {
            directory = try TemporaryDirectory("coffer-ctd")
            try directory.write("config.toml", """
                version = 2
                root = "\(directory.file("root"))"
                state = "\(directory.file("state"))"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "\(socket)"
                [ttrpc]
                  address = "\(socket).ttrpc"

                """)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/containerd")
            process.arguments = ["--config", directory.file("config.toml")]
            _ = FileManager.default.createFile(atPath: directory.file("containerd.log"), contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("containerd.log")))
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // Ready when it answers (a deadline, not a timing assertion).
            for _ in 0..<300 {
                if try ctr(["version"]).status == 0 { return }
                guard process.isRunning else { break }
                usleep(50_000)
            }
            throw TestFailure("containerd did not come up: \(String(decoding: FileManager.default.contents(atPath: directory.file("containerd.log")) ?? Data(), as: UTF8.self))")
        }

        func ctr(_ arguments: [String]) throws -> CommandResult {
            try run("/usr/bin/ctr", ["--address", socket] + arguments)
        }

        deinit {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }

    /// A busybox root file system.
    static func rootfs(in directory: TemporaryDirectory) throws -> String {
        let rootfs = directory.file("rootfs")
        try sh("mkdir -p \(rootfs)/bin \(rootfs)/tmp && cp /bin/busybox \(rootfs)/bin/busybox")
        for applet in ["sh", "echo", "sleep"] {
            try FileManager.default.createSymbolicLink(atPath: "\(rootfs)/bin/\(applet)", withDestinationPath: "busybox")
        }
        return rootfs
    }

    @Test func containerdRunsOrdinaryAndEnclaveContainersThroughCofferRuntime() throws {
        let containerd = try Containerd()
        let rootfs = try Self.rootfs(in: containerd.directory)
        let runtime = ContainerFixture.runtime
        // (`--rootfs` is a switch: the root file system is then the first argument, before the id.)
        let base = ["run", "--rm", "--runc-binary", runtime]

        // An ordinary container: output and exit code through the shim.
        let ordinary = try containerd.ctr(base + ["--rootfs", rootfs, containerID("ctd"), "/bin/sh", "-c", "echo hello from containerd; exit 3"])
        #expect(ordinary.status == 3, "\(ordinary.stderr)")
        #expect(ordinary.stdout == "hello from containerd\n")

        // An enclave container: only coffer-runtime turns ENCLAVE_TYPE into the PAL host as init,
        // so the reference PAL's own words prove who ran it.
        let pal = try ReferencePAL.path("v3")
        var enclave = base
        for variable in EnclaveContainerTests.enclaveEnv(pal) { enclave += ["--env", variable] }
        let ran = try containerd.ctr(enclave + ["--rootfs", rootfs, containerID("ctd-enclave"), "/bin/sh", "-c", "echo in-enclave; exit 5"])
        #expect(ran.status == 5, "\(ran.stderr)")
        #expect(ran.stdout == "in-enclave\n")
        #expect(ran.stderr.contains("reference-pal: SGX simulation: no SGX hardware is used"), "\(ran.stderr)")

        // A detached task: listed running, killed through the shim, then deleted with its container.
        let id = containerID("ctd-detached")
        let started = try containerd.ctr(["run", "-d", "--runc-binary", runtime, "--rootfs", rootfs, id, "/bin/sleep", "600"])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(try containerd.ctr(["task", "ls"]).stdout.contains("RUNNING"))
        #expect(try containerd.ctr(["task", "kill", "-s", "SIGKILL", id]).status == 0)
        let listed = try poll(for: 10) { try containerd.ctr(["task", "ls"]).stdout } until: { $0.contains("STOPPED") }
        #expect(listed.contains("STOPPED"), "\(listed)")
        #expect(try containerd.ctr(["task", "delete", id]).status == 0)
        #expect(try containerd.ctr(["container", "delete", id]).status == 0)
        #expect(try containerd.ctr(["task", "ls", "-q"]).stdout.isEmpty)
        #expect(try containerd.ctr(["container", "ls", "-q"]).stdout.isEmpty)
    }
}
