import CofferTestSupport
import Foundation
import Testing
@testable import CofferOCIRuntime
import CofferJSON

/// Ordinary containers go to runc: the same output, exit code and lifecycle as runc itself.
@Suite struct OrdinaryContainerTests {
    @Test func runGivesRuncsOutputAndExitCode() throws {
        let fixture = try ContainerFixture(args: ["sh", "-c", "echo out; echo err >&2; exit 3"])
        let coffer = try fixture.runtime(["run", containerID("plain")])
        let runc = try fixture.runtime(["run", containerID("plain")], runc: true)
        #expect(coffer.status == 3)
        #expect(coffer.stdout == "out\n")
        #expect(coffer.stderr == "err\n")
        #expect(coffer.status == runc.status && coffer.stdout == runc.stdout && coffer.stderr == runc.stderr)
        #expect(try fixture.isEmpty())
    }

    @Test func globalFlagsAreRuncs() throws {
        let fixture = try ContainerFixture(args: ["true"])
        let log = fixture.directory.file("runc.log")
        let result = try fixture.runtime(
            ["run", containerID("flags")], global: ["--log", log, "--log-format", "json", "--systemd-cgroup=false"])
        #expect(result.status == 0)
        // coffer-runtime's own errors land in runc's log, in runc's format, where shims look.
        let refusedEnclave = try fixture.runtime(
            ["run", containerID("flags")], global: ["--log", log, "--log-format", "json", "--enclave-runtime", "/no/such/pal.so"])
        #expect(refusedEnclave.status != 0)
        let last = try JSONParser.parse(String(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last ?? ""))
        #expect(last["level"]?.stringValue == "error")
        #expect(last["msg"]?.stringValue?.contains("/no/such/pal.so does not exist") == true)
        // An unknown global flag is refused by runc, in runc's words.
        let refused = try run(ContainerFixture.runtime, ["--no-such-flag", "state", "x"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("flag provided but not defined"))
    }

    @Test func lifecycleCreateStartStateKillDelete() throws {
        let fixture = try ContainerFixture(args: ["sh", "-c", "echo started; exec sleep 100"])
        let id = containerID("life")
        #expect(try fixture.detached(["create", id], output: "create.out") == 0)
        #expect(try fixture.status(id) == "created")
        #expect(try fixture.runtime(["start", id]).status == 0)
        try fixture.wait("the container to print") { fixture.read("create.out") == "started\n" }
        #expect(try fixture.status(id) == "running")
        let state = try JSONParser.parse(try fixture.runtime(["state", id]).stdout)
        #expect(state["bundle"]?.stringValue == fixture.bundle)
        #expect(try fixture.runtime(["kill", id, "KILL"]).status == 0)
        try fixture.wait("the container to stop") { try fixture.status(id) == "stopped" }
        #expect(try fixture.runtime(["delete", id]).status == 0)
        #expect(try fixture.status(id) == nil)
        #expect(try fixture.isEmpty())
    }

    @Test func execAndPsAreRuncs() throws {
        let fixture = try ContainerFixture(args: ["sleep", "100"])
        let id = containerID("exec")
        #expect(try fixture.detached(["run", "--detach", id], output: "run.out") == 0)
        let exec = try fixture.runtime(["exec", id, "sh", "-c", "echo inside; exit 5"])
        #expect(exec.status == 5 && exec.stdout == "inside\n")
        let ps = try fixture.runtime(["ps", id])
        #expect(ps.status == 0 && ps.stdout.contains("sleep"))
        #expect(try fixture.runtime(["delete", "--force", id]).status == 0)
        #expect(try fixture.isEmpty())
    }

    @Test func specAndFeaturesAreRuncs() throws {
        let fixture = try ContainerFixture(args: ["true"])
        let features = try run(ContainerFixture.runtime, ["features"])
        #expect(features.status == 0)
        #expect(features.stdout == (try run("runc", ["features"])).stdout)
        let spec = try run(ContainerFixture.runtime, ["spec", "--bundle", fixture.directory.path])
        #expect(spec.status == 0)
        #expect(FileManager.default.fileExists(atPath: fixture.directory.file("config.json")))
    }
}
