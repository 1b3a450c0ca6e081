import CofferCore

/// Which processes the host may start in a running guest besides the workload: the image's exec
/// policy. It is written in the image manifest (so the image id covers it) and carried on the guest
/// kernel's measured command line (`coffer.exec=`, see `ExecPolicy+KernelArgument.swift`), so the
/// agent enforces what the launch measurement covers and not what the untrusted host claims.
///
/// Host-initiated exec is an attack path: a hostile host that may start anything can start a
/// shell beside the secrets. So an `exact` policy describes each allowed exec completely: the
/// argument vector, the environment variables the host may add, the user and the working
/// directory. Anything the host changes beyond that is refused.
public enum ExecPolicy: Sendable, Equatable {
    /// Nothing besides the workload (the default).
    case deny
    /// Anything the host asks for. For development only: an image with this policy is not
    /// confidential, since the host can start a shell in it.
    case allow
    /// Only requests that match one of these entries exactly.
    case exact([Entry])

    /// One allowed exec.
    public struct Entry: Sendable, Equatable {
        /// The argument vector exactly; `argv[0]` is an absolute program path, so no PATH lookup
        /// (the host chooses the environment) can swap the program.
        public var argv: [String]
        /// Whether the host may append arguments after `argv`. Off unless the policy says so:
        /// `/bin/cat /proc/meminfo` must not admit `/bin/cat /proc/meminfo /run/secrets/key`.
        public var trailingArguments: Bool
        /// Names of the environment variables the host may add to the workload's environment.
        /// Empty by default: `BASH_ENV`, `ENV`, `PYTHONSTARTUP`, `PERL5OPT`, `NODE_OPTIONS`,
        /// `LD_PRELOAD`, `GCONV_PATH`, `GLIBC_TUNABLES` and their like make an allowed program
        /// run host-chosen code, and no list of dangerous names is ever complete.
        public var env: [String]
        /// The user (as in `StartProcess.user`); nil until the image's user is filled in
        /// (`resolved(user:cwd:)`), which the image builder and the launcher do.
        public var user: String?
        /// The working directory; nil until the image's workdir is filled in.
        public var cwd: String?

        public init(argv: [String], trailingArguments: Bool = false, env: [String] = [], user: String? = nil, cwd: String? = nil) {
            self.argv = argv
            self.trailingArguments = trailingArguments
            self.env = env
            self.user = user
            self.cwd = cwd
        }

        /// Refuses an entry that could not describe an exec exactly.
        public func validate() throws(FieldError) {
            guard let program = argv.first, program.hasPrefix("/") else {
                throw FieldError("an exec entry's argv must start with an absolute program path (\(argv.first ?? "none"))")
            }
            for name in env where name.isEmpty || name.contains("=") || name.contains("\0") {
                throw FieldError("exec env '\(name)' must be a variable name (non-empty, without '=')")
            }
            if let user, user.isEmpty || user.contains("\0") { throw FieldError("an exec entry's user must not be empty") }
            if let cwd, !cwd.hasPrefix("/") { throw FieldError("an exec entry's cwd '\(cwd)' must be absolute") }
            if argv.contains(where: { $0.contains("\0") }) { throw FieldError("an exec entry's argv contains a NUL byte") }
        }
    }

    /// What the policy says about one request.
    public enum Decision: Sendable, Equatable {
        case permitted
        case refused(reason: String)
    }

    /// The policy with every entry's missing user and working directory set to the image's.
    public func resolved(user: String, cwd: String) -> ExecPolicy {
        guard case .exact(let entries) = self else { return self }
        return .exact(entries.map { entry in
            var entry = entry
            entry.user = entry.user ?? user
            entry.cwd = entry.cwd ?? cwd
            return entry
        })
    }

    /// Whether the host may start `request`, whose program resolved to `program`, in a guest whose
    /// workload was started with `workloadEnv` (the environment the launch measured, through
    /// `coffer.workload=`).
    ///
    /// Under `exact`, an entry must match every part: argv exactly (or as a prefix when it allows
    /// trailing arguments) and the resolved program equal to its `argv[0]`; the environment is the
    /// workload's, unchanged and in order, followed only by variables the entry names; user and
    /// cwd are the entry's, compared as strings (root's spellings aside, see `canonicalUser`).
    public func check(_ request: StartProcess, program: String, workloadEnv: [String]) -> Decision {
        switch self {
        case .deny: return .refused(reason: "the policy is deny")
        case .allow: return .permitted
        case .exact(let entries):
            var reasons: [String] = []
            for entry in entries {
                guard let reason = entry.mismatch(request, program: program, workloadEnv: workloadEnv) else { return .permitted }
                if entry.argv.first == request.argv.first { reasons.append(reason) }
            }
            return .refused(reason: reasons.first ?? "no entry for \(request.argv.first ?? "")")
        }
    }
}

extension ExecPolicy.Entry {
    /// Why `request` does not match this entry, nil when it does.
    func mismatch(_ request: StartProcess, program: String, workloadEnv: [String]) -> String? {
        guard let path = argv.first, program == path, request.argv.first == path else { return "another program" }
        if trailingArguments {
            guard request.argv.starts(with: argv) else { return "other arguments" }
        } else {
            guard request.argv == argv else { return request.argv.starts(with: argv) ? "extra arguments" : "other arguments" }
        }
        guard let user, Self.canonicalUser(request.user) == Self.canonicalUser(user) else { return "user \(request.user.isEmpty ? "(default)" : request.user), not \(user ?? "unset")" }
        guard let cwd, request.cwd == cwd else { return "working directory \(request.cwd), not \(cwd ?? "unset")" }
        guard request.env.starts(with: workloadEnv) else { return "the workload's environment changed" }
        for variable in request.env.dropFirst(workloadEnv.count) {
            let name = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? variable
            guard env.contains(name) else { return "environment variable \(name) is not allowed" }
        }
        return nil
    }

    /// The spellings of root the launcher treats as one (`""`, `root`, `0`, `0:0`: the CLI sends
    /// `""` for all); any other user compares as written, so `1000` and `alice` differ (fail closed).
    static func canonicalUser(_ user: String) -> String {
        ["", "root", "0", "0:0"].contains(user) ? "" : user
    }
}
