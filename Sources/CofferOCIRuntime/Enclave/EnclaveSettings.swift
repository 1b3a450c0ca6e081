import CofferJSON

/// What makes a container an enclave container, read as rune reads it
/// (inclavare-containers rune/libenclave/check.go, CreateEnclaveConfig): each setting from the
/// process environment first, then from the annotations; the environment entries are removed
/// from the container's environment, since they configure the runtime, not the program.
public struct EnclaveSettings: Sendable, Equatable {
    /// `ENCLAVE_TYPE` / `enclave.type`; Coffer runs `intelSgx`.
    public var type: String
    /// `ENCLAVE_RUNTIME_PATH` / `enclave.runtime.path`: the PAL library, a path on the host.
    public var runtimePath: String
    /// `ENCLAVE_RUNTIME_ARGS` / `enclave.runtime.args`, commas turned into spaces as rune does.
    public var runtimeArgs: String
    /// `ENCLAVE_RUNTIME_LOGLEVEL` / `enclave.runtime.loglevel`, "info" unless a known level.
    public var logLevel: String
    /// The container's environment without the ENCLAVE_* entries rune consumes.
    public var environment: [String]

    public static let intelSGX = "intelSgx"
    /// rune/libenclave/configs/log_level.go.
    public static let logLevels = ["trace", "debug", "info", "warning", "error", "fatal", "panic", "off"]
    /// Every variable rune removes from the environment (check.go), RA settings included.
    static let consumedVariables = [
        "ENCLAVE_TYPE", "ENCLAVE_RUNTIME_PATH", "ENCLAVE_RUNTIME_ARGS", "ENCLAVE_RUNTIME_LOGLEVEL",
        "ENCLAVE_RA_TYPE", "ENCLAVE_RA_EPID_SPID", "ENCLAVE_RA_EPID_SUB_KEY",
    ]

    /// Cheap pre-check on config.json's bytes: without one of these names there is no enclave
    /// and coffer-runtime hands the command to runc without parsing JSON.
    public static func mayDeclareEnclave(_ configBytes: [UInt8]) -> Bool {
        contains(configBytes, "ENCLAVE_TYPE") || contains(configBytes, "enclave.type")
    }

    /// The enclave settings of a config.json, nil for an ordinary container. `defaultRuntime`
    /// (`--enclave-runtime`) makes every container an intelSgx enclave container whose bundle
    /// does not name its own PAL.
    public static func read(config: JSONValue, defaultRuntime: String? = nil) throws(OCIError) -> EnclaveSettings? {
        var environment = config["process"]?["env"]?.stringArray ?? []
        let annotations = config["annotations"]
        func take(_ variable: String, _ annotation: String) -> String {
            var found = ""
            if let index = environment.firstIndex(where: { $0.hasPrefix(variable + "=") }) {
                found = String(environment[index].dropFirst(variable.count + 1))
            }
            if found.isEmpty { found = annotations?[annotation]?.stringValue ?? "" }
            return found
        }
        var type = take("ENCLAVE_TYPE", "enclave.type")
        var path = take("ENCLAVE_RUNTIME_PATH", "enclave.runtime.path")
        let args = take("ENCLAVE_RUNTIME_ARGS", "enclave.runtime.args")
        let level = take("ENCLAVE_RUNTIME_LOGLEVEL", "enclave.runtime.loglevel")
        if let defaultRuntime, !defaultRuntime.isEmpty {
            if type.isEmpty { type = intelSGX }
            if path.isEmpty { path = defaultRuntime }
        }
        guard !type.isEmpty else { return nil }
        environment.removeAll { entry in consumedVariables.contains { entry.hasPrefix($0 + "=") } }
        guard type == intelSGX else {
            throw .invalidEnclave("enclave type \(type) is not supported; Coffer runs \(intelSGX) enclaves")
        }
        guard !path.isEmpty else {
            throw .invalidEnclave(
                "the enclave container names no enclave runtime: set ENCLAVE_RUNTIME_PATH or the annotation enclave.runtime.path to the PAL library")
        }
        guard path.hasPrefix("/") else {
            throw .invalidEnclave("the enclave runtime path \(path) must be absolute (a PAL library on the host)")
        }
        return EnclaveSettings(
            type: type, runtimePath: path,
            runtimeArgs: args.split(separator: ",", omittingEmptySubsequences: false).joined(separator: " "),
            logLevel: logLevels.contains(level) ? level : "info", environment: environment)
    }

    private static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard haystack.count >= pattern.count, let first = pattern.first else { return false }
        var index = 0
        while index + pattern.count <= haystack.count {
            if haystack[index] == first, Array(haystack[index..<index + pattern.count]) == pattern { return true }
            index += 1
        }
        return false
    }
}
