import ArgumentParser
import CofferCore
import CofferImage
import CofferVMM

/// The workload for an image, Docker's way: the entrypoint (or `--entrypoint`) followed by the
/// command given on the command line, else by the image's cmd (none with `--entrypoint`); the
/// image's env then `-e`; the image's workdir; the image's user unless overridden (resolved in the
/// guest against the image's /etc/passwd and /etc/group).
struct WorkloadRequest {
    var config: ImageConfig
    var command: [String]
    var entrypoint: String?
    var extraEnv: [String]
    var user: String?
    var workdir: String?
    var tty = false
    var stdin = false

    func workload() throws(CofferError) -> VMSpec.Workload {
        // As in Docker, a new entrypoint drops the image's cmd; arguments given still follow it.
        let defaultArguments = entrypoint == nil ? config.cmd : []
        let argv = (entrypoint.map { [$0] } ?? config.entrypoint) + (command.isEmpty ? defaultArguments : command)
        guard let program = argv.first, !program.isEmpty else {
            throw CofferError(.invalidInput, "the image has no entrypoint or cmd: give a command after the image name")
        }
        try Self.checkEnv(extraEnv)
        let user = try Self.checkUser(user ?? config.user)
        let cwd = workdir ?? (config.workdir.isEmpty ? "/" : config.workdir)
        guard cwd.hasPrefix("/") else { throw CofferError(.invalidInput, "-w \(cwd): the working directory must be absolute") }
        return VMSpec.Workload(argv: argv, env: Self.terminalEnv(config.env + extraEnv, tty: tty), cwd: cwd, user: user, tty: tty, stdin: stdin)
    }

    /// With a tty and no TERM of its own, the program gets `TERM=xterm`, as under Docker.
    static func terminalEnv(_ env: [String], tty: Bool) -> [String] {
        tty && !env.contains(where: { $0.hasPrefix("TERM=") }) ? env + ["TERM=xterm"] : env
    }

    static func checkEnv(_ entries: [String]) throws(CofferError) {
        for entry in entries where !entry.contains("=") || entry.hasPrefix("=") {
            throw CofferError(.invalidInput, "-e \(entry): expected NAME=VALUE")
        }
    }

    /// `""`, `NAME`, `UID`, `NAME:GROUP`, `UID:GID`: the agent resolves names in the guest. An
    /// empty part or a NUL is refused here already.
    static func checkUser(_ text: String) throws(CofferError) -> String {
        if text.isEmpty || text == "root" || text == "0" || text == "0:0" { return "" }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty }), !text.contains("\0") else {
            throw CofferError(.invalidInput, "user \(text): expected NAME, UID, NAME:GROUP or UID:GID")
        }
        return text
    }
}

/// The options that shape the workload (`run`, and `tcb`, whose measurement binds the workload).
struct WorkloadOptions: ParsableArguments {
    @Option(name: .short, help: "Environment variable K=V for the program (repeatable); added after the image's.")
    var env: [String] = []
    @Option(help: "Override the image's entrypoint (a single program path).") var entrypoint: String?
    @Option(name: .shortAndLong, help: "USER[:GROUP] (name or id) to run as. Default: the image's user.") var user: String?
    @Option(name: .shortAndLong, help: "Working directory of the program. Default: the image's.") var workdir: String?

    func request(_ config: ImageConfig, command: [String], tty: Bool, stdin: Bool) -> WorkloadRequest {
        WorkloadRequest(config: config, command: command, entrypoint: entrypoint, extraEnv: env, user: user, workdir: workdir, tty: tty, stdin: stdin)
    }
}
