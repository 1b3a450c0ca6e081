import CofferCore

/// The workload a launch is for, bound into the guest kernel's measured command line
/// (`coffer.workload=<SHA-256 hex>`): the agent starts as the workload only a request whose
/// program, arguments, environment, working directory and user hash to it. The launch measurement
/// therefore says what runs, not only which image: a host that swaps the command (`coffer run
/// IMAGE /bin/sh -c ...`) or adds `-e LD_PRELOAD=...` gets another measurement, which a key
/// broker's policy does not accept, or, if it keeps the measured line, a guest that refuses to
/// start anything.
///
/// The digest is SHA-256 of `"coffer-workload\0" | argv | env | cwd | user`, each list and string
/// length-prefixed as in `WireStrings` (so different workloads never encode alike).
public struct WorkloadBinding: Sendable, Equatable {
    public static let parameterName = "coffer.workload"

    public var digest: [UInt8]

    public init(argv: [String], env: [String], cwd: String, user: String) {
        var writer = ByteWriter()
        writer.write(Array("coffer-workload".utf8) + [0])
        writer.writeStrings(argv)
        writer.writeStrings(env)
        writer.writeString(cwd)
        writer.writeString(user)
        digest = SHA256Digest.hash(writer.bytes)
    }

    /// The binding of what `request` asks to start (its terminal and stdin flags are not bound:
    /// they change how output is carried, not what runs).
    public init(_ request: StartProcess) {
        self.init(argv: request.argv, env: request.env, cwd: request.cwd, user: request.user)
    }

    init(digest: [UInt8]) { self.digest = digest }

    public var kernelArgument: String { Self.parameterName + "=" + Hex.encode(digest) }

    /// The binding on `commandLine`, nil when it names none; one that is not 64 hex digits is
    /// refused (a second one already is, by `KernelCommandLine`).
    public static func parse(commandLine: KernelCommandLine) throws(FieldError) -> WorkloadBinding? {
        guard let parameter = commandLine.parameter(parameterName) else { return nil }
        let value = parameter.value ?? ""
        guard value.utf8.count == 64, let digest = Hex.decode(value) else {
            throw FieldError("coffer.workload=\(value.prefix(80)) is not a SHA-256 digest in hex")
        }
        return WorkloadBinding(digest: digest)
    }
}
