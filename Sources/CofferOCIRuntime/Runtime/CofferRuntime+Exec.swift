#if canImport(Glibc)
import Glibc
#endif
import CCofferOCIRuntime
import CofferJSON

extension CofferRuntime {
    /// exec into an enclave container: the PAL host runs the program through the enclave runtime
    /// (pal_create_process + pal_exec) on coffer-runtime's standard streams, and coffer-runtime
    /// exits with its exit value. With --detach a child of coffer-runtime waits instead, and
    /// --pid-file names that child, as runc names the process it detached.
    func exec(_ id: String, _ state: EnclaveState, _ options: CommandOptions) throws(OCIError) -> Int32 {
        if options.isSet("tty", "t") || options.value("console-socket") != nil {
            throw .unsupported("exec with a terminal is not supported in enclave container \(id): the enclave runtime is given the caller's standard streams")
        }
        var argv: [String]
        var env: [String]
        if let processFile = options.value("process", "p") {
            let process: JSONValue
            do { process = try JSONParser.parse(try FileSystem.read(processFile)) } catch let error as OCIError {
                throw error
            } catch { throw .invalidBundle("\(processFile): \(error)") }
            argv = process["args"]?.stringArray ?? []
            env = process["env"]?.stringArray ?? []
        } else {
            argv = Array(options.operands.dropFirst())
            // As runc exec: the container's process environment, then each --env.
            let config = try? JSONParser.parse(try FileSystem.read(state.bundle + "/config.json"))
            env = config?["process"]?["env"]?.stringArray ?? []
        }
        env += options.values("env", "e")
        guard !argv.isEmpty else { throw .invalidBundle("exec needs a command to run in container \(id)") }
        let control = PALControl(socket: state.socket)
        var pid = getpid()
        if options.isSet("detach", "d") {
            pid = coffer_oci_fork()
            guard pid >= 0 else { throw .system("fork: \(FileSystem.errorText())") }
            if pid == 0 {
                let code = (try? control.exec(argv: argv, env: env)) ?? 255
                _exit(code)
            }
        }
        if let pidFile = options.value("pid-file") {
            try FileSystem.write(FileSystem.absolute(pidFile), String(pid))
        }
        if options.isSet("detach", "d") { return 0 }
        return try control.exec(argv: argv, env: env)
    }

    /// attest (as `rune attest` without remote attestation): the enclave's local report from
    /// pal_get_local_report (PAL API v3), printed in hex.
    func attest(_ state: EnclaveState) throws(OCIError) -> Int32 {
        let reply = try PALControl(socket: state.socket).request(["report"])
        guard reply.hasPrefix("report ") else { throw .enclaveRuntime("unexpected reply from the PAL host: \(reply)") }
        print(reply.dropFirst(7))
        return 0
    }
}
