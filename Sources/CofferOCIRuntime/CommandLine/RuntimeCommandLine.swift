/// The OCI runtime command line as runc reads it, split just enough to route it.
///
/// `runc [global options] COMMAND [command options] ID [arguments]`, with Go's flag syntax:
/// `--name value`, `--name=value`, `-name value`, booleans as `--name` or `--name=true`.
/// Coffer reads only what routing needs (the root, the command, its container id, bundle and a
/// few options) and hands runc the arguments unchanged, less Coffer's own global flags.
public struct RuntimeCommandLine: Sendable, Equatable {
    /// Everything runc should see: the original arguments without Coffer's own flags.
    public var runcArguments: [String]
    /// Global options before the command, as given (without Coffer's own).
    public var globalArguments: [String]
    /// The global options' values by name (`root`, `log`, `log-format`, ...), the last one given.
    public var globalValues: [String: String]
    /// runc's state root (`--root`), default /run/runc as runc uses for root.
    public var root: String { globalValues["root"] ?? "/run/runc" }
    /// The subcommand (`create`, `run`, ...), nil for `--help`, `--version` or no command.
    public var command: String?
    /// The command's options and operands, as given.
    public var commandArguments: [String]
    /// `--enclave-runtime PATH`: a default enclave runtime PAL for every container this
    /// invocation creates (docs/oci-runtime.md).
    public var enclaveRuntime: String?

    /// runc's global options that take a value (runc 1.1 main.go).
    static let globalValueFlags: Set<String> = ["root", "log", "log-format", "criu", "rootless"]

    public init(_ arguments: [String]) {
        var kept: [String] = []
        var globals: [String] = []
        var values: [String: String] = [:]
        var enclaveRuntime: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard let (name, inlineValue) = Self.flag(argument) else { break }
            if name == "enclave-runtime" {
                if let inlineValue { enclaveRuntime = inlineValue; index += 1; continue }
                enclaveRuntime = index + 1 < arguments.count ? arguments[index + 1] : ""
                index += 2
                continue
            }
            kept.append(argument)
            globals.append(argument)
            index += 1
            if Self.globalValueFlags.contains(name) {
                var value = inlineValue
                if value == nil, index < arguments.count {
                    value = arguments[index]
                    kept.append(arguments[index])
                    globals.append(arguments[index])
                    index += 1
                }
                if let value { values[name] = value }
            }
        }
        let rest = Array(arguments[index...])
        self.runcArguments = kept + rest
        self.globalArguments = globals
        self.globalValues = values
        self.command = rest.first
        self.commandArguments = Array(rest.dropFirst())
        self.enclaveRuntime = enclaveRuntime
    }

    /// `--name`, `-name`, `--name=value` → (name, value); nil for operands and `-`/`--`.
    static func flag(_ argument: String) -> (String, String?)? {
        guard argument.hasPrefix("-"), argument != "-", argument != "--" else { return nil }
        let body = argument.drop { $0 == "-" }
        guard !body.isEmpty else { return nil }
        if let equals = body.firstIndex(of: "=") {
            return (String(body[..<equals]), String(body[body.index(after: equals)...]))
        }
        return (String(body), nil)
    }
}
