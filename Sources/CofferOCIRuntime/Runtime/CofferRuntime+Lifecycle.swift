#if canImport(Glibc)
import Glibc
import CofferJSON

#endif

extension CofferRuntime {
    /// start: the PAL host, waiting since create, runs the program (pal_create_process + pal_exec).
    func start(_ id: String, _ state: EnclaveState) throws(OCIError) -> Int32 {
        guard !state.isStarted else { throw .unsupported("cannot start an already started container \(id)") }
        _ = try PALControl(socket: state.socket).request(["start"])
        try state.markStarted()
        return 0
    }

    /// state: runc's, with the status and bundle as the caller knows them. runc sees the PAL host
    /// running from create on; until start reached it, the container is "created".
    func reportState(_ id: String, _ state: EnclaveState) throws(OCIError) -> Int32 {
        let (status, output) = try Runc.capture(line.globalArguments + ["state", id])
        guard status == 0, var report = try? JSONParser.parse(output) else {
            print(output, terminator: "")
            return status
        }
        if report["status"]?.stringValue == "running" && !state.isStarted {
            report = report.setting("status", .string("created"))
        }
        if let origin = state.origin { report = report.setting("bundle", .string(origin)) }
        print(report.pretty, terminator: "")
        return 0
    }

    /// delete: pal_destroy through the PAL host when the enclave is still up and may be torn
    /// down (created, or --force), then runc's delete, then Coffer's state.
    func delete(_ id: String, _ state: EnclaveState, _ options: CommandOptions) throws(OCIError) -> Int32 {
        guard let status = try runcStatus(id) else {
            state.remove()
            try Runc.execute(line.runcArguments)
        }
        if status != "stopped" && (!state.isStarted || options.isSet("force", "f")) {
            _ = try? PALControl(socket: state.socket).request(["destroy"])
            let deadline = Self.now() + 10
            while Self.now() < deadline, try runcStatus(id) == "running" { usleep(10000) }
        }
        let deleted = try Runc.run(line.runcArguments)
        if deleted == 0 { state.remove() }
        return deleted
    }
}
