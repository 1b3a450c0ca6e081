#if canImport(Glibc)
import Glibc
#endif

/// coffer-runtime: the OCI runtime command line, rune-compatible.
///
/// Ordinary containers, and every command Coffer has nothing to add to, are handed to runc by
/// execv with the same arguments: runc's behaviour, exit status and stdio are runc's. Enclave
/// containers (EnclaveSettings) run under runc too, from a bundle Coffer prepares in its own state
/// directory with the PAL host as init; `create`, `run`, `start`, `state`, `exec` and `delete`
/// add the PAL host's side of the lifecycle (docs/oci-runtime.md).
public struct CofferRuntime {
    public let line: RuntimeCommandLine

    public init(arguments: [String]) { line = RuntimeCommandLine(arguments) }

    /// Runs the command; returns the exit status unless runc replaced this process.
    public func main() -> Int32 {
        do {
            return try dispatch()
        } catch {
            RuntimeLog(line: line).error(error.description)
            return 1
        }
    }

    private func dispatch() throws(OCIError) -> Int32 {
        guard let command = line.command else { try Runc.execute(line.runcArguments) }
        let options = CommandOptions(command: command, line.commandArguments)
        switch command {
        case "create", "run":
            return try createOrRun(command, options)
        case "start", "state", "delete", "exec", "attest":
            guard let id = options.containerID else { break }
            let state = EnclaveState(root: line.root, id: id)
            guard Self.isValid(id: id), state.exists else {
                if command == "attest" { throw .unsupported("container \(id) is not an enclave container Coffer runs") }
                break
            }
            switch command {
            case "start": return try start(id, state)
            case "state": return try reportState(id, state)
            case "delete": return try delete(id, state, options)
            case "exec": return try exec(id, state, options)
            default: return try attest(state)
            }
        default:
            // kill reaches the PAL host as a signal to the container's init, which forwards it
            // with pal_kill; ps, pause, features, spec, list ... are runc's alone.
            break
        }
        try Runc.execute(line.runcArguments)
    }

    /// runc's rule for container ids (libcontainer/factory_linux.go): also what keeps an id from
    /// naming a path outside Coffer's state directory.
    static func isValid(id: String) -> Bool {
        !id.isEmpty && id != "." && id != ".."
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F || c == 0x2B || c == 0x2D || c == 0x2E
            }
    }

    /// The command line runc gets for a prepared enclave bundle: the same options, bundle replaced.
    func runcArguments(_ command: String, _ options: CommandOptions, bundle: String) -> [String] {
        var arguments = line.globalArguments + [command]
        for option in options.options where option.name != "bundle" && option.name != "b" {
            arguments.append(option.value.map { "--\(option.name)=\($0)" } ?? "--\(option.name)")
        }
        return arguments + ["--bundle", bundle] + options.operands
    }

    /// The PAL host executable: $COFFER_PAL_HOST, else beside coffer-runtime.
    static func palHostExecutable() throws(OCIError) -> String {
        if let override = getenv("COFFER_PAL_HOST"), override.pointee != 0 { return String(cString: override) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw .system("cannot find coffer-runtime's own path: \(FileSystem.errorText())") }
        let own = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let host = own.split(separator: "/").dropLast().map { "/" + $0 }.joined() + "/coffer-pal-host"
        guard access(host, X_OK) == 0 else {
            throw .system("the PAL host \(host) is missing: install coffer-pal-host beside coffer-runtime")
        }
        return host
    }
}
