import CofferCore
import CofferWire
import Testing

@Suite struct ExecPolicyTests {
    let policy = ExecPolicy.exact([
        .init(argv: ["/bin/cat", "/proc/meminfo"], user: "0:0", cwd: "/"),
        .init(argv: ["/usr/bin/status"], trailingArguments: true, env: ["TERM"], user: "1000:1000", cwd: "/srv"),
    ])
    let workloadEnv = ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"]

    func check(_ argv: [String], program: String? = nil, env extra: [String] = [], user: String = "0:0", cwd: String = "/") -> ExecPolicy.Decision {
        policy.check(
            StartProcess(id: ProcessID(2), argv: argv, env: workloadEnv + extra, cwd: cwd, user: user), program: program ?? argv[0],
            workloadEnv: workloadEnv)
    }

    @Test func anExactRequestIsPermitted() {
        #expect(check(["/bin/cat", "/proc/meminfo"]) == .permitted)
        #expect(check(["/usr/bin/status", "--json"], env: ["TERM=xterm"], user: "1000:1000", cwd: "/srv") == .permitted)
        #expect(ExecPolicy.allow.check(StartProcess(argv: ["sh"], env: ["BASH_ENV=/x"], cwd: "/tmp"), program: "/bin/sh", workloadEnv: []) == .permitted)
        #expect(ExecPolicy.deny.check(StartProcess(argv: ["/bin/true"], env: [], cwd: "/"), program: "/bin/true", workloadEnv: []) != .permitted)
    }

    @Test func everyEscapeIsRefused() {
        // A trailing argument the entry does not allow.
        #expect(check(["/bin/cat", "/proc/meminfo", "/run/secrets/key"]) != .permitted)
        #expect(check(["/bin/cat"]) != .permitted)
        // Variables that run host-chosen code under an allowed name, and a harmless unlisted one.
        for variable in [
            "BASH_ENV=/tmp/x", "ENV=/tmp/x", "PYTHONSTARTUP=/tmp/x", "PYTHONPATH=/tmp", "PERL5OPT=-Mx", "NODE_OPTIONS=--require=/tmp/x",
            "GCONV_PATH=/tmp", "GLIBC_TUNABLES=glibc.malloc.check=3", "LD_PRELOAD=/tmp/x.so", "HARMLESS=1",
        ] {
            #expect(check(["/bin/cat", "/proc/meminfo"], env: [variable]) != .permitted, "\(variable)")
        }
        // The workload's environment changed rather than added to.
        #expect(
            policy.check(StartProcess(id: ProcessID(2), argv: ["/bin/cat", "/proc/meminfo"], env: ["PATH=/tmp"], cwd: "/", user: "0:0"),
                program: "/bin/cat", workloadEnv: workloadEnv) != .permitted)
        // Another user, another working directory.
        #expect(check(["/bin/cat", "/proc/meminfo"], user: "1000:1000") != .permitted)
        #expect(check(["/bin/cat", "/proc/meminfo"], user: "daemon") != .permitted)
        #expect(check(["/bin/cat", "/proc/meminfo"], user: "") == .permitted)  // the CLI's spelling of root
        #expect(check(["/bin/cat", "/proc/meminfo"], cwd: "/run/secrets") != .permitted)
        // A PATH lookup that lands elsewhere, or a bare name: argv[0] and the program are exact.
        #expect(check(["cat", "/proc/meminfo"], program: "/tmp/evil/cat", env: ["PATH=/tmp/evil"]) != .permitted)
        #expect(check(["cat", "/proc/meminfo"], program: "/bin/cat") != .permitted)
        #expect(check(["/bin/cat", "/proc/meminfo"], program: "/tmp/cat") != .permitted)
        // An unresolved entry (no user or cwd) permits nothing.
        let unresolved = ExecPolicy.exact([.init(argv: ["/bin/true"])])
        #expect(unresolved.check(StartProcess(argv: ["/bin/true"], env: [], cwd: "/"), program: "/bin/true", workloadEnv: []) != .permitted)
        #expect(unresolved.resolved(user: "0:0", cwd: "/").check(StartProcess(argv: ["/bin/true"], env: [], cwd: "/", user: "0:0"), program: "/bin/true", workloadEnv: []) == .permitted)
    }

    /// Golden: the argument for a fixed policy, computed independently with python3 from the
    /// encoding documented in ExecPolicy+KernelArgument.swift. It feeds the launch measurement.
    @Test func theKernelArgumentIsPinnedAndRoundTrips() throws {
        #expect(policy.kernelArgument == "coffer.exec=exact:000000020000000002000000082f62696e2f6361740000000d2f70726f632f6d656d696e666f0000000000000003303a30000000012f01000000010000000f2f7573722f62696e2f73746174757300000001000000045445524d00000009313030303a31303030000000042f737276")
        #expect(try ExecPolicy.parse(commandLine: KernelCommandLine(policy.kernelArgument)) == policy)
        #expect(ExecPolicy.deny.kernelArgument == "coffer.exec=deny" && ExecPolicy.allow.kernelArgument == "coffer.exec=allow")
        #expect(try ExecPolicy.parse(commandLine: KernelCommandLine("console=ttyS0")) == .deny)
        let hex = String(policy.kernelArgument.dropFirst("coffer.exec=exact:".count))
        for bad in [
            "coffer.exec=maybe", "coffer.exec", "coffer.exec=exact:zz", "coffer.exec=exact:00000005", "coffer.exec=prefixes:00000000",
            "coffer.exec=exact:" + hex + "00",  // trailing byte
            "coffer.exec=exact:" + String(hex.dropLast(2)),  // truncated
            "coffer.exec=exact:0000000102" + String(hex.dropFirst(10)),  // unknown flag
            ExecPolicy.exact([.init(argv: ["/bin/true"])]).kernelArgument,  // no user or cwd
            ExecPolicy.exact([.init(argv: ["true"], user: "0", cwd: "/")]).kernelArgument,  // relative program
            ExecPolicy.exact([.init(argv: ["/bin/true"], env: ["A=1"], user: "0", cwd: "/")]).kernelArgument,  // not a name
        ] {
            #expect(throws: FieldError.self, "\(bad)") { try ExecPolicy.parse(commandLine: KernelCommandLine(bad)) }
        }
    }
}
