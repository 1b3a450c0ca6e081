import CofferTestSupport
import Foundation
import Testing

/// The docker-like lifecycle through the real executable, on real micro-VMs: detached runs,
/// exec under the image's measured exec policy, ps states, logs, stop, kill, rm, standard input
/// and terminals, and VMs whose QEMU or monitor died.
@Suite(.serialized) struct LifecycleCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")
    let runs = RunCLITests()

    /// A busybox root with a user database; `exec` is what the Cofferfile says.
    func busyboxImage(_ home: String, tag: String, exec: String) throws {
        let work = try TemporaryDirectory("coffer-lifecycle")
        _ = try busyboxRoot(in: work)
        try "name: \(tag)\nfrom: {rootfs: root.tar}\nexec: \(exec)\ncmd: [/bin/sh]\n".write(
            toFile: work.file("Cofferfile"), atomically: true, encoding: .utf8)
        let built = try coffer(home, ["build", "-f", work.file("Cofferfile")], directory: work.path)
        guard built.status == 0 else { throw TestFailure("build failed: \(built.stderr)") }
    }

    @Test func aDetachedVMServesExecLogsAndStops() throws {
        let home = try runs.storeWithKernel()
        try busyboxImage(home.path, tag: "shell:1", exec: "allow")
        let started = try coffer(home.path, [
            "run", "-d", "--name", "web", "shell:1", "/bin/sh", "-c",
            "trap 'echo got TERM; exit 5' TERM; echo started; while true; do sleep 0.1; done",
        ])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(started.stdout.count == 33, "\(started.stdout)")  // 32 hex digits and a newline
        #expect(try coffer(home.path, ["ps"]).stdout.contains(" web"))

        // exec: output and status; a named user with its groups; stdin; the host name.
        let exec = try coffer(home.path, ["exec", "-u", "alice", "web", "/bin/sh", "-c", "id; hostname; exit 4"])
        #expect(exec.status == 4, "\(exec.stderr)")
        #expect(exec.stdout == "uid=1000(alice) gid=1000(alice) groups=50(staff),1000(alice)\nweb\n")
        let piped = try coffer(home.path, ["exec", "-i", "web", "/bin/sh", "-c", "cat; echo end"], input: "line one\nline two\n")
        #expect(piped.stdout == "line one\nline two\nend\n", "\(piped.stderr)")
        let missing = try coffer(home.path, ["exec", "web", "no-such-program"])
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("no-such-program: not found"), "\(missing.stderr)")

        // Evidence over the agent channel: this guest has no TEE, so it says so and the launcher
        // signs sample evidence over the VM's launch measurement, marked as not hardware-backed.
        let evidencePath = "\(home.path)/evidence.bin"
        // The host gives a nonce; the report data is derived from it (python3:
        // hashlib.sha512(b"coffer attest-vm v1\x00" + bytes.fromhex("c0ffee"))), never the nonce.
        let derived = "9b050c2d91dee02198e11141231bb9c7705cb4472a547d641590a3a2b2ba690a91cc6fc45b5318b5bb0b253219ebe1576f307bef727b5e0c6f564b2a6e97290a"
        let attested = try coffer(home.path, ["attest", "vm", "--nonce", "c0ffee", "-o", evidencePath, "web"])
        #expect(attested.stderr.contains("nonce: c0ffee\nreport data: \(derived)"), "\(attested.stderr)")
        #expect(attested.status == 0, "\(attested.stderr)")
        // Coffer's kernel has the TSM report interface (configfs-tsm), with no TEE provider on this
        // plain launch: the agent asks nothing of it, since the measured command line names no TEE.
        #expect(attested.stderr.contains("the guest has no TEE (this launch is not confidential (no coffer.tee= on its measured command line)"), "\(attested.stderr)")
        #expect(attested.stderr.contains("NOT hardware-backed"))
        let verified = try coffer(home.path, ["attest", "verify", "--evidence", evidencePath, "--sample-signer", "\(home.path)/keys/launcher.pub"])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let record = try coffer(home.path, ["ps", "--format", "json"]).stdout
        let measurement = try #require(record.split(separator: "\"").first { $0.hasPrefix("sha256:") && record.contains("\"launchMeasurement\" : \"\($0)\"") })
        #expect(verified.stdout.contains("measurement  \(measurement.dropFirst(7))"), "\(verified.stdout)")
        #expect(verified.stdout.contains("report_data  \(derived)"), "\(verified.stdout)")

        // stop: SIGTERM reaches the workload, which exits with its own status.
        let stopped = try coffer(home.path, ["stop", "-t", "20", "web"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let listed = try coffer(home.path, ["ps", "-a"])
        #expect(listed.stdout.contains("Exited (5)"), "\(listed.stdout)")
        #expect(try coffer(home.path, ["ps"]).stdout.split(separator: "\n").count == 1)
        let logs = try coffer(home.path, ["logs", "web"])
        #expect(logs.stdout == "started\ngot TERM\n", "\(logs.stdout)")
        #expect(try coffer(home.path, ["logs", "--console", "web"]).stdout.contains("coffer-agent: ready after"))
        #expect(try coffer(home.path, ["exec", "web", "/bin/true"]).stderr.contains("web is not running (exited)"))

        // start boots it again; kill ends it; rm removes it.
        let again = try coffer(home.path, ["start", "web"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try coffer(home.path, ["ps"]).stdout.contains("Up "))
        #expect(try coffer(home.path, ["rm", "web"]).stderr.contains("web is running: stop it first"))
        #expect(try coffer(home.path, ["kill", "web"]).status == 0)
        #expect(try coffer(home.path, ["ps", "-a"]).stdout.contains("Exited (137)"))
        #expect(try coffer(home.path, ["rm", "web"]).status == 0)
        #expect(try coffer(home.path, ["ps", "-a"]).stdout.split(separator: "\n").count == 1)
        #expect(try runs.processes(using: home.path).isEmpty)
    }

    @Test func execIsRefusedUnlessTheMeasuredPolicyAllowsIt() throws {
        let home = try runs.storeWithKernel()
        try busyboxImage(
            home.path, tag: "locked:1", exec: "[[/bin/echo, ok], {argv: [/bin/echo, trail], trailing_args: true, env: [GREETING]}]")
        let started = try coffer(home.path, ["run", "-d", "--name", "locked", "locked:1", "/bin/sleep", "600"])
        #expect(started.status == 0, "\(started.stderr)")
        let allowed = try coffer(home.path, ["exec", "locked", "/bin/echo", "ok"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout == "ok\n")
        // Trailing arguments and an allowed variable only where the entry says so.
        let trailing = try coffer(home.path, ["exec", "-e", "GREETING=hi", "locked", "/bin/echo", "trail", "a", "b"])
        #expect(trailing.stdout == "trail a b\n", "\(trailing.stderr)")
        // Everything else is refused: another program, arguments, a PATH lookup, a path naming the
        // program another way, an unlisted variable, another user or working directory.
        for refused in [
            ["/bin/sh"], ["/bin/echo", "other"], ["/bin/echo", "ok", "then", "more"], ["echo", "ok"], ["/bin/../bin/echo", "ok"],
            ["-e", "BASH_ENV=/tmp/x", "/bin/echo", "ok"], ["-u", "1000", "/bin/echo", "ok"], ["-w", "/tmp", "/bin/echo", "ok"],
        ] {
            let options = refused[0].hasPrefix("-") ? Array(refused.prefix(2)) : []
            let result = try coffer(home.path, ["exec"] + options + ["locked"] + refused.dropFirst(options.count))
            #expect(result.status == 126, "\(refused): \(result.stderr)")
            #expect(result.stderr.contains("the image's exec policy does not allow"), "\(result.stderr)")
        }
        // rm -f kills the monitor; QEMU dies with it (PR_SET_PDEATHSIG).
        #expect(try coffer(home.path, ["rm", "-f", "locked"]).status == 0)
        #expect(try runs.processes(using: home.path).isEmpty)
    }

    @Test func standardInputAndATerminalReachTheWorkload() throws {
        let home = try runs.storeWithKernel()
        try busyboxImage(home.path, tag: "io:1", exec: "deny")
        // Input piped before the guest has booted is kept for the workload.
        let piped = try coffer(home.path, ["run", "--rm", "-i", "io:1", "/bin/sh"], input: "echo from stdin\nexit 6\n")
        #expect(piped.status == 6, "\(piped.stderr)")
        #expect(piped.stdout == "from stdin\n")
        // Without -i, stdin is /dev/null.
        #expect(try coffer(home.path, ["run", "--rm", "io:1", "/bin/cat"], input: "ignored\n").stdout == "")
        // -t under a real pseudo-terminal (script(1)): the workload's stdio is a tty, sized as ours.
        let command = "stty rows 33 cols 101; \(coffer) run --home \(home.path) --rm -t io:1 /bin/sh -c 'tty; stty size; echo $TERM'"
        let terminal = try run("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(terminal.status == 0, "\(terminal.stdout)")
        #expect(terminal.stdout.contains("/dev/pts/0\r\n33 101\r\nxterm\r\n"), "\(terminal.stdout)")
        #expect(try coffer(home.path, ["ps", "-a"]).stdout.split(separator: "\n").count == 1)
    }

    /// Guest size from the flags (`-m`, `--cpus`, `--accel`), a signal chosen with `kill -s`, a
    /// followed log that ends with the VM, `exec -t`, and `stop -t` killing a workload that
    /// ignores SIGTERM once its grace period is over.
    @Test func sizedVMSignalsFollowedLogsTerminalExecAndStopEscalation() throws {
        let home = try runs.storeWithKernel()
        try busyboxImage(home.path, tag: "stubborn:1", exec: "allow")
        let started = try coffer(home.path, [
            "run", "-d", "--verbose", "--name", "stubborn", "-m", "300M", "--cpus", "2", "--accel", "tcg", "stubborn:1", "/bin/sh", "-c",
            "trap 'echo TERM ignored' TERM; trap 'echo got USR1' USR1; echo up; while true; do sleep 0.1; done",
        ])
        #expect(started.status == 0, "\(started.stderr)")
        #expect(started.stderr.contains("coffer: accelerator tcg as requested"), "\(started.stderr)")

        // The guest has the memory and CPUs asked for (the kernel keeps a little memory for itself).
        let sized = try coffer(home.path, ["exec", "stubborn", "/bin/sh", "-c", "cat /sys/devices/system/cpu/online; cat /proc/meminfo"])
        #expect(sized.status == 0, "\(sized.stderr)")
        let lines = sized.stdout.split(separator: "\n")
        #expect(lines.first == "0-1", "\(sized.stdout)")
        let total = try #require(lines.first { $0.hasPrefix("MemTotal:") }?.split(separator: " ").dropFirst().first.flatMap { Int($0) })
        #expect((250_000...307_200).contains(total), "MemTotal \(total) kB")

        // `logs -f` follows the program's output until the VM ends (run in the background).
        // (A Process of its own: Foundation learns of a child's end when every copy of a socket it
        // hands the child is closed, so a follower backgrounded by a shell would hold the shell.)
        let followed = home.file("followed.log")
        _ = FileManager.default.createFile(atPath: followed, contents: nil)
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: coffer)
        follower.arguments = ["logs", "-f", "--home", home.path, "stubborn"]
        follower.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: followed))
        follower.standardError = follower.standardOutput
        follower.standardInput = FileHandle.nullDevice
        try follower.run()
        defer { if follower.isRunning { follower.terminate() } }

        // exec -t under a real pseudo-terminal: the program's stdio is a tty, sized as ours, and
        // resized with ours (SIGWINCH to `coffer exec`, a window-size message to the agent). The
        // program waits (30 s at most) for the size to change, which ours does 4 s in.
        let program = "stty size; i=0; while [ \"$(stty size)\" = \"21 77\" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; tty; stty size"
        let command = "stty rows 21 cols 77; (sleep 4; stty rows 40 cols 90 < /dev/tty) & \(coffer) exec --home \(home.path) -t stubborn /bin/sh -c '\(program)'"
        let terminal = try run("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(terminal.status == 0, "\(terminal.stdout)")
        #expect(terminal.stdout.hasPrefix("21 77\r\n/dev/pts/"), "\(terminal.stdout)")
        #expect(terminal.stdout.hasSuffix("\r\n40 90\r\n"), "\(terminal.stdout)")

        // kill -s USR1 reaches the workload, which lives on; SIGTERM is ignored, so stop kills it
        // after its one-second grace period.
        #expect(try coffer(home.path, ["kill", "-s", "USR1", "stubborn"]).status == 0)
        let logs = try poll(for: 10) { try coffer(home.path, ["logs", "stubborn"]).stdout } until: { $0.contains("got USR1") }
        #expect(logs == "up\ngot USR1\n", "\(logs)")
        #expect(try coffer(home.path, ["kill", "-s", "NOSUCHSIG", "stubborn"]).stderr.contains("NOSUCHSIG"))
        let stopped = try coffer(home.path, ["stop", "-t", "1", "stubborn"])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(try coffer(home.path, ["ps", "-a"]).stdout.contains("Exited (137)"))
        #expect(try coffer(home.path, ["logs", "stubborn"]).stdout == "up\ngot USR1\nTERM ignored\n")

        // The follower ended by itself when the VM did, having printed everything.
        poll(for: 10) { follower.isRunning } until: { !$0 }
        #expect(!follower.isRunning, "logs -f still running after the VM ended")
        #expect(follower.terminationStatus == 0)
        #expect(try String(contentsOfFile: followed, encoding: .utf8) == "up\ngot USR1\nTERM ignored\n")
        #expect(try coffer(home.path, ["rm", "stubborn"]).status == 0)
        #expect(try runs.processes(using: home.path).isEmpty)
    }

    /// A monitor told to terminate (a host shutting down, a supervisor) stops its VM as `coffer
    /// stop` does: SIGTERM reaches the workload, which exits with its own status.
    @Test func aMonitorToldToTerminateStopsItsVM() throws {
        let home = try runs.storeWithKernel()
        try busyboxImage(home.path, tag: "polite:1", exec: "deny")
        let started = try coffer(home.path, [
            "run", "-d", "--name", "polite", "polite:1", "/bin/sh", "-c", "trap 'echo bye; exit 4' TERM; echo trapping; while true; do sleep 0.1; done",
        ])
        #expect(started.status == 0, "\(started.stderr)")
        // `run -d` returns once the program started; its trap is set once it says so.
        try poll(for: 10) { try coffer(home.path, ["logs", "polite"]).stdout } until: { !$0.isEmpty }
        let listed = try coffer(home.path, ["ps", "--format", "json"])
        let vms = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let monitor = try #require(vms.first?["monitorPID"] as? Int32)
        #expect(kill(monitor, SIGTERM) == 0)
        let table = try poll(for: 20) { try coffer(home.path, ["ps", "-a"]).stdout } until: { $0.contains("Exited (") }
        #expect(table.contains("Exited (4)"), "\(table)")
        #expect(try coffer(home.path, ["logs", "polite"]).stdout == "trapping\nbye\n")
        try poll(for: 5) { try runs.processes(using: home.path) } until: { $0.isEmpty }
        #expect(try runs.processes(using: home.path).isEmpty)
        #expect(try coffer(home.path, ["rm", "polite"]).status == 0)
    }

    @Test func psReportsAVMWhoseQEMUOrMonitorDied() throws {
        let home = try runs.storeWithKernel()
        try busyboxImage(home.path, tag: "victim:1", exec: "deny")
        for name in ["qemu-killed", "monitor-killed"] {
            let started = try coffer(home.path, ["run", "-d", "--name", name, "victim:1", "/bin/sleep", "600"])
            #expect(started.status == 0, "\(started.stderr)")
        }
        let listed = try coffer(home.path, ["ps", "--format", "json"])
        let vms = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let pids = Dictionary(uniqueKeysWithValues: vms.map { ($0["name"] as? String ?? "", ($0["qemuPID"] as? Int32 ?? 0, $0["monitorPID"] as? Int32 ?? 0)) })
        kill(try #require(pids["qemu-killed"]).0, SIGKILL)
        kill(try #require(pids["monitor-killed"]).1, SIGKILL)
        // The monitor notices QEMU's end; a killed monitor is seen by ps itself. Bounded wait.
        let table = try poll(for: 10) { try coffer(home.path, ["ps", "-a"]).stdout } until: { $0.components(separatedBy: "Dead: ").count == 3 }
        #expect(table.contains("Dead: QEMU ended (status 9) without the workload's exit"), "\(table)")
        #expect(table.contains("Dead: its monitor (pid"), "\(table)")
        // The killed monitor's QEMU did not outlive it.
        try poll(for: 5) { try runs.processes(using: home.path) } until: { $0.isEmpty }
        #expect(try runs.processes(using: home.path).isEmpty)
        #expect(try coffer(home.path, ["rm", "qemu-killed", "monitor-killed"]).status == 0)
    }
}
