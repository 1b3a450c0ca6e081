#if canImport(Glibc)
import Glibc
import CofferJSON

#endif

extension CofferRuntime {
    /// create and run: runc's, unless config.json declares an enclave.
    func createOrRun(_ command: String, _ options: CommandOptions) throws(OCIError) -> Int32 {
        guard let id = options.containerID else { try Runc.execute(line.runcArguments) }
        let bundle = FileSystem.absolute(options.value("bundle", "b") ?? ".")
        // Unreadable bundles are runc's to report, in runc's words.
        guard let bytes = try? FileSystem.read(bundle + "/config.json"),
              line.enclaveRuntime != nil || EnclaveSettings.mayDeclareEnclave(bytes)
        else { try Runc.execute(line.runcArguments) }
        let config: JSONValue
        do { config = try JSONParser.parse(bytes) } catch { throw .invalidBundle("\(bundle)/config.json: \(error)") }
        guard let settings = try EnclaveSettings.read(config: config, defaultRuntime: line.enclaveRuntime) else {
            try Runc.execute(line.runcArguments)
        }
        guard Self.isValid(id: id) else { throw .invalidBundle("invalid container id \(id)") }
        guard FileSystem.exists(settings.runtimePath) else {
            throw .invalidEnclave("the enclave runtime PAL \(settings.runtimePath) does not exist on this host")
        }
        let state = EnclaveState(root: line.root, id: id)
        let files = try PALHostFiles.collect(host: try Self.palHostExecutable(), pal: settings.runtimePath)
        let enclave = EnclaveBundle(
            settings: settings, bundle: bundle, palDirectory: state.pal, controlDirectory: state.control,
            files: files, devices: SGXDevices.present(), aesmdDirectory: FileSystem.isDirectory("/var/run/aesmd") ? "/var/run/aesmd" : nil,
            waitForStart: command == "create")
        try state.prepare(config: try enclave.rewrite(config), origin: bundle, files: files)

        let status: Int32
        do {
            status = try Runc.run(runcArguments(command, options, bundle: state.bundle))
        } catch {
            state.remove()
            throw error
        }
        if command == "run" && !options.isSet("detach", "d") {
            // runc run waited for the PAL host: its exit status is the program's, or 125 with the
            // PAL host's message on stderr when loading or pal_init failed.
            if !options.isSet("keep") { state.remove() }
            return status
        }
        guard status == 0 else {
            // runc removes what a failed create or run made; a runc container that already had
            // this id is not ours to delete.
            state.remove()
            return status
        }
        do throws(OCIError) {
            // create: runc start runs the PAL host now, so that pal_init happens at create as in
            // rune; the PAL host then waits for `coffer-runtime start` on its control socket.
            if command == "create" {
                let started = try Runc.run(line.globalArguments + ["start", id])
                guard started == 0 else { throw OCIError.enclaveRuntime("runc could not start the PAL host of \(id)") }
            }
            try waitForInit(id, state)
        } catch .enclaveRuntime(let message) {
            abandon(id, state)
            throw .enclaveRuntime("enclave container \(id) (PAL \(settings.runtimePath)): \(message)")
        } catch {
            abandon(id, state)
            throw error
        }
        return 0
    }

    /// Waits for the PAL host's verdict on loading the PAL and pal_init (an enclave can take
    /// seconds to build); fails if the PAL host ends without one.
    func waitForInit(_ id: String, _ state: EnclaveState) throws(OCIError) {
        var polls = 0
        let deadline = Self.now() + 300
        while Self.now() < deadline {
            if let result = state.readInitResult() {
                guard result.isEmpty else { throw .enclaveRuntime(result) }
                return
            }
            polls += 1
            if polls % 20 == 0, try runcStatus(id) != "running" {
                if let result = state.readInitResult(), !result.isEmpty { throw .enclaveRuntime(result) }
                throw .enclaveRuntime("the PAL host of \(id) ended before reporting pal_init's result")
            }
            usleep(5000)
        }
        throw .enclaveRuntime("the PAL host of \(id) did not finish pal_init within 300 seconds")
    }

    /// runc's status of the container ("created", "running", "stopped", ...), nil if runc has none.
    func runcStatus(_ id: String) throws(OCIError) -> String? {
        let (status, output) = try Runc.capture(line.globalArguments + ["state", id], quiet: true)
        guard status == 0, let state = try? JSONParser.parse(output) else { return nil }
        return state["status"]?.stringValue
    }

    /// After a failed create: no runc container and no Coffer state are left.
    func abandon(_ id: String, _ state: EnclaveState) {
        _ = try? Runc.capture(line.globalArguments + ["delete", "--force", id], quiet: true)
        state.remove()
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
