import CofferTestSupport
import Foundation
import Testing
@testable import CofferOCIRuntime
import CofferJSON

/// Enclave containers through the reference PAL (SGX simulation): real runc, real PAL host.
@Suite struct EnclaveContainerTests {
    static func enclaveEnv(_ pal: String, args: String = "one,two", level: String = "debug") -> [String] {
        ["ENCLAVE_TYPE=intelSgx", "ENCLAVE_RUNTIME_PATH=\(pal)", "ENCLAVE_RUNTIME_ARGS=\(args)", "ENCLAVE_RUNTIME_LOGLEVEL=\(level)"]
    }

    @Test(arguments: ["v3", "v2", "v1"])
    func runGivesOutputAndExitCode(version: String) throws {
        let pal = try ReferencePAL.path(version)
        let fixture = try ContainerFixture(
            args: ["sh", "-c", "echo in-enclave; env; exit 7"], env: Self.enclaveEnv(pal))
        let result = try fixture.runtime(["run", containerID("run-\(version)")])
        #expect(result.status == 7)
        #expect(result.stdout.hasPrefix("in-enclave\n"))
        // rune's variables configure the runtime; the program never sees them.
        #expect(!result.stdout.contains("ENCLAVE_"))
        // v2 and v3 pass the environment with pal_create_process; v1's pal_exec has none.
        #expect(result.stdout.contains("PATH=/bin") == (version != "v1"))
        #expect(result.stderr.contains("reference-pal: SGX simulation: no SGX hardware is used"))
        #expect(result.stderr.contains("args=one two"))
        #expect(result.stderr.contains("pal_destroy"))
        #expect(result.stderr.contains("v3 attributes: fd=-1 addr=0") == (version == "v3"))
        #expect(try fixture.isEmpty())
        // The user's bundle is untouched.
        let config = try JSONParser.parse(String(contentsOfFile: fixture.bundle + "/config.json", encoding: .utf8))
        #expect(config["process"]?["args"]?.stringArray == ["sh", "-c", "echo in-enclave; env; exit 7"])
    }

    /// A PAL shaped like Occlum's (occlum_pal_* names, wait-status exit values): the exit code
    /// comes out as the program's, as `occlum run` reports it.
    @Test func occlumShapedPALGivesTheExitCode() throws {
        let fixture = try ContainerFixture(
            args: ["sh", "-c", "echo occlum; exit 3"], env: Self.enclaveEnv(try ReferencePAL.path("occlum-shaped")))
        let result = try fixture.runtime(["run", containerID("occlum")])
        #expect(result.status == 3 && result.stdout == "occlum\n")
        let killed = try ContainerFixture(
            args: ["sh", "-c", "kill -9 $$"], env: Self.enclaveEnv(try ReferencePAL.path("occlum-shaped")))
        #expect(try killed.runtime(["run", containerID("occlum-kill")]).status == 137)
    }

    @Test func annotationsDeclareTheEnclaveToo() throws {
        let pal = try ReferencePAL.path("v2")
        let fixture = try ContainerFixture(
            args: ["echo", "annotated"],
            annotations: ["enclave.type": "intelSgx", "enclave.runtime.path": pal, "enclave.runtime.args": "a,b"])
        let result = try fixture.runtime(["run", containerID("annotated")])
        #expect(result.status == 0 && result.stdout == "annotated\n")
        #expect(result.stderr.contains("args=a b"))
    }

    @Test func enclaveRuntimeFlagMakesAnEnclaveContainer() throws {
        let pal = try ReferencePAL.path("v3")
        let fixture = try ContainerFixture(args: ["echo", "by-flag"])
        let result = try fixture.runtime(["run", containerID("flag")], global: ["--enclave-runtime", pal])
        #expect(result.status == 0 && result.stdout == "by-flag\n")
        #expect(result.stderr.contains("SGX simulation"))
    }

    @Test func lifecycleCreateExecStartKillDelete() throws {
        let pal = try ReferencePAL.path("v3")
        let fixture = try ContainerFixture(
            args: ["sh", "-c", "trap 'echo got-term; exit 9' TERM; echo started; while true; do sleep 0.05; done"],
            env: Self.enclaveEnv(pal))
        let id = containerID("enclave-life")
        // create runs pal_init: the PAL's log is there before start.
        #expect(try fixture.detached(["create", id], output: "create.out") == 0)
        #expect(fixture.read("create.out").contains("SGX simulation"))
        #expect(try fixture.status(id) == "created")
        let state = try JSONParser.parse(try fixture.runtime(["state", id]).stdout)
        #expect(state["bundle"]?.stringValue == fixture.bundle)

        // exec reaches the enclave runtime: pal_create_process + pal_exec, output and exit code.
        let exec = try fixture.runtime(["exec", "--env", "EXTRA=1", id, "sh", "-c", "echo exec-$EXTRA; exit 4"])
        #expect(exec.status == 4)
        #expect(exec.stdout == "exec-1\n")

        #expect(try fixture.runtime(["start", id]).status == 0)
        try fixture.wait("the program to start") { fixture.read("create.out").contains("started\n") }
        #expect(try fixture.status(id) == "running")
        #expect(try fixture.runtime(["start", id]).status != 0)

        let report = try fixture.runtime(["attest", id])
        #expect(report.status == 0)
        #expect(report.stdout.hasPrefix(Array("COFFER REFERENCE PAL".utf8).map { String(format: "%02x", $0) }.joined()))

        // kill: runc signals the PAL host, which forwards with pal_kill.
        #expect(try fixture.runtime(["kill", id, "TERM"]).status == 0)
        try fixture.wait("the container to stop") { try fixture.status(id) == "stopped" }
        #expect(fixture.read("create.out").contains("pal_kill: signal 15 to -1"))
        #expect(fixture.read("create.out").contains("got-term"))
        #expect(try fixture.runtime(["delete", id]).status == 0)
        #expect(try fixture.status(id) == nil)
        #expect(try fixture.isEmpty())
    }

    @Test func deleteOfACreatedEnclaveDestroysIt() throws {
        let pal = try ReferencePAL.path("v2")
        let fixture = try ContainerFixture(args: ["echo", "never"], env: Self.enclaveEnv(pal))
        let id = containerID("created-delete")
        #expect(try fixture.detached(["create", id], output: "create.out") == 0)
        #expect(try fixture.runtime(["delete", id]).status == 0)
        #expect(fixture.read("create.out").contains("pal_destroy"))
        #expect(!fixture.read("create.out").contains("never"))
        #expect(try fixture.isEmpty())
    }

    @Test func signalBeforeStartDestroysTheEnclave() throws {
        let fixture = try ContainerFixture(args: ["echo", "never"], env: Self.enclaveEnv(try ReferencePAL.path("v3")))
        let id = containerID("kill-created")
        #expect(try fixture.detached(["create", id], output: "create.out") == 0)
        #expect(try fixture.runtime(["kill", id, "TERM"]).status == 0)
        try fixture.wait("the container to stop") { try fixture.status(id) == "stopped" }
        #expect(fixture.read("create.out").contains("pal_destroy"))
        #expect(!fixture.read("create.out").contains("never"))
        #expect(try fixture.runtime(["delete", id]).status == 0)
        #expect(try fixture.isEmpty())
    }

    @Test func execTakesAProcessFile() throws {
        let fixture = try ContainerFixture(args: ["sleep", "100"], env: Self.enclaveEnv(try ReferencePAL.path("v2")))
        let id = containerID("exec-process")
        #expect(try fixture.detached(["run", "--detach", id], output: "run.out") == 0)
        let process = try fixture.directory.write(
            "process.json", #"{"args":["sh","-c","echo $GREETING; exit 6"],"env":["GREETING=from-process-json"],"cwd":"/"}"#)
        let exec = try fixture.runtime(["exec", "--process", process, id])
        #expect(exec.status == 6 && exec.stdout == "from-process-json\n")
        let tty = try fixture.runtime(["exec", "--tty", id, "sh"])
        #expect(tty.status != 0 && tty.stderr.contains("terminal is not supported"))
        #expect(try fixture.runtime(["delete", "--force", id]).status == 0)
        #expect(try fixture.isEmpty())
    }

    @Test func detachedExecWritesAPidFile() throws {
        let pal = try ReferencePAL.path("v3")
        let fixture = try ContainerFixture(args: ["sleep", "100"], env: Self.enclaveEnv(pal))
        let id = containerID("exec-detach")
        #expect(try fixture.detached(["run", "--detach", id], output: "run.out") == 0)
        let pidFile = fixture.directory.file("exec.pid")
        let marker = fixture.directory.file("bundle/rootfs/tmp/marker")
        #expect(try fixture.runtime(["exec", "--detach", "--pid-file", pidFile, id, "sh", "-c", "echo hi > /tmp/marker"]).status == 0)
        let pid = Int32(try String(contentsOfFile: pidFile, encoding: .utf8)) ?? 0
        #expect(pid > 0)
        try fixture.wait("the detached exec") { (try? String(contentsOfFile: marker, encoding: .utf8)) == "hi\n" }
        #expect(try fixture.runtime(["delete", "--force", id]).status == 0)
        #expect(try fixture.isEmpty())
    }

    /// An enclave create with the id of an existing runc container fails and leaves that
    /// container alone.
    @Test func existingIdIsNotTouched() throws {
        let fixture = try ContainerFixture(args: ["sleep", "100"])
        let id = containerID("taken")
        #expect(try fixture.detached(["run", "--detach", id], output: "plain.out") == 0)
        let result = try fixture.runtime(["create", id], global: ["--enclave-runtime", try ReferencePAL.path("v3")])
        #expect(result.status != 0)
        #expect(result.stderr.contains("exists"))
        #expect(try fixture.status(id) == "running")
        #expect(!FileManager.default.fileExists(atPath: fixture.stateRoot + "/" + id))
        #expect(try fixture.runtime(["delete", "--force", id]).status == 0)
        #expect(try fixture.isEmpty())
    }

    /// The PAL host is plain C: the Swift runtime is not among what gets mounted into the container.
    @Test func palHostNeedsNoSwiftRuntime() throws {
        let host = Repository.executable("coffer-pal-host")
        let files = try PALHostFiles.collect(host: host, pal: try ReferencePAL.path("v2"))
        #expect(!files.libraries.contains { $0.name.contains("swift") })
        #expect(files.libraries.contains { $0.name == "libc.so.6" })
        #expect(files.loaderName == "ld-linux-x86-64.so.2" && files.palName == "libreference-pal-v2.so")
    }

    /// Bad PALs: a clear error at create, no runc container and no Coffer state left.
    @Test(arguments: [
        ("absent", "does not exist on this host"),
        ("missing-exec", "does not export pal_exec"),
        ("version-9", "reports PAL API version 9; Coffer supports versions 1 to 3"),
        ("init-fails", "pal_init of the enclave runtime PAL"),
        ("not-elf", "cannot list the shared libraries of the enclave runtime PAL"),
    ])
    func badPALFailsAtCreate(variant: String, message: String) throws {
        let fixture = try ContainerFixture(args: ["echo", "never"])
        let pal: String
        switch variant {
        case "absent": pal = fixture.directory.file("no-such-pal.so")
        case "not-elf": pal = try fixture.directory.write("not-elf.so", "text")
        default: pal = try ReferencePAL.path(variant)
        }
        let config = try String(contentsOfFile: fixture.bundle + "/config.json", encoding: .utf8)
        try config.replacingOccurrences(of: "\"HOME=/\"", with: Self.enclaveEnv(pal).map { "\"\($0)\"" }.joined(separator: ",") + ",\"HOME=/\"")
            .write(toFile: fixture.bundle + "/config.json", atomically: true, encoding: .utf8)
        for command in ["create", "run"] {
            let id = containerID("bad-\(variant)")
            let result = try fixture.runtime([command, id])
            #expect(result.status != 0, "\(command) with \(variant)")
            #expect(result.stderr.contains(message), "\(command): \(result.stderr)")
            #expect(!result.stdout.contains("never"))
            #expect(try fixture.status(id) == nil)
            #expect(try fixture.isEmpty())
        }
    }
}
