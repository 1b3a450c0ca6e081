import CofferJSON

/// The bundle Coffer hands runc for an enclave container: the user's config.json rewritten so
/// that the PAL host is the container's init (pure: tested directly, no files touched).
///
/// The user's bundle is never modified. The rewritten config points at the user's rootfs by
/// absolute path, replaces process.args by the PAL host's command line (the original args follow
/// `--`), drops the ENCLAVE_* variables from process.env, and appends read-only bind mounts of
/// the PAL host, its loader and libraries and the PAL, a writable control directory, the SGX
/// device nodes the host has, and aesmd's socket directory when present (as rune does).
public struct EnclaveBundle: Sendable {
    /// Where the PAL host's files appear inside the container. Under /dev because every usual
    /// config (runc spec, Docker, containerd) mounts a tmpfs there: the mount points runc creates
    /// land in that tmpfs, not in the image's rootfs.
    public static let containerDirectory = "/dev/coffer-pal"
    public static var libraryDirectory: String { containerDirectory + "/lib" }
    public static var controlDirectory: String { containerDirectory + "/control" }
    public static var hostPath: String { containerDirectory + "/coffer-pal-host" }

    /// A character device the host has (stat of its path).
    public struct Device: Sendable, Equatable {
        public var path: String
        public var major: UInt64
        public var minor: UInt64
        public var mode: UInt32
        public init(path: String, major: UInt64, minor: UInt64, mode: UInt32) {
            self.path = path; self.major = major; self.minor = minor; self.mode = mode
        }
    }

    public var settings: EnclaveSettings
    /// The user's bundle directory, absolute.
    public var bundle: String
    /// The state directory's `pal` (mounted read-only) and `control` (read-write) directories.
    public var palDirectory: String
    public var controlDirectory: String
    public var files: PALHostFiles
    public var devices: [Device]
    /// /var/run/aesmd exists on the host (the SGX quoting service's socket directory).
    public var aesmdDirectory: String?
    /// The PAL host waits for `coffer-runtime start` (create) instead of running at once (run).
    public var waitForStart: Bool

    public init(settings: EnclaveSettings, bundle: String, palDirectory: String, controlDirectory: String,
                files: PALHostFiles, devices: [Device], aesmdDirectory: String?, waitForStart: Bool) {
        self.settings = settings; self.bundle = bundle; self.palDirectory = palDirectory
        self.controlDirectory = controlDirectory; self.files = files; self.devices = devices
        self.aesmdDirectory = aesmdDirectory; self.waitForStart = waitForStart
    }

    /// The PAL host's command line, which becomes process.args.
    public func hostArguments(program: [String]) -> [String] {
        let lib = Self.libraryDirectory
        return [lib + "/" + files.loaderName, "--library-path", lib, Self.hostPath,
                "--pal", lib + "/" + files.palName, "--control", Self.controlDirectory,
                "--args", settings.runtimeArgs, "--log-level", settings.logLevel]
            + (waitForStart ? ["--wait-start"] : []) + ["--"] + program
    }

    public func rewrite(_ config: JSONValue) throws(OCIError) -> JSONValue {
        guard let process = config["process"], let program = process["args"]?.stringArray, !program.isEmpty else {
            throw .invalidBundle("config.json in \(bundle) has no process.args to run in the enclave")
        }
        guard let rootPath = config["root"]?["path"]?.stringValue else {
            throw .invalidBundle("config.json in \(bundle) has no root.path")
        }
        let rootfs = rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath
        let newProcess = process
            .setting("args", .strings(hostArguments(program: program)))
            .setting("env", .strings(settings.environment))
        return config
            .setting("process", newProcess)
            .updating("root") { ($0 ?? .object([])).setting("path", .string(rootfs)) }
            .updating("mounts") { .array(($0?.arrayValue ?? []) + mounts(existing: $0?.arrayValue ?? [])) }
            .updating("linux") { linux in addingDevices(to: linux ?? .object([])) }
    }

    private func bind(_ source: String, _ destination: String, _ options: [String]) -> JSONValue {
        .object([("destination", .string(destination)), ("type", .string("bind")), ("source", .string(source)),
                 ("options", .strings(["bind"] + options))])
    }

    private func mounts(existing: [JSONValue]) -> [JSONValue] {
        let readOnly = ["ro", "nosuid", "nodev"]
        var list = [bind(palDirectory, Self.containerDirectory, readOnly),
                    bind(files.host, Self.hostPath, readOnly)]
        for library in files.libraries {
            list.append(bind(library.source, Self.libraryDirectory + "/" + library.name, readOnly))
        }
        list.append(bind(controlDirectory, Self.controlDirectory, ["rw", "nosuid", "nodev", "noexec"]))
        let destinations = Set(existing.compactMap { $0["destination"]?.stringValue })
        if let aesmdDirectory, !destinations.contains("/var/run/aesmd"), !destinations.contains("/run/aesmd") {
            list.append(bind(aesmdDirectory, "/var/run/aesmd", ["rbind", "rprivate"]))
        }
        return list
    }

    private func addingDevices(to linux: JSONValue) -> JSONValue {
        let listed = Set((linux["devices"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue })
        let added = devices.filter { !listed.contains($0.path) }
        guard !added.isEmpty else { return linux }
        let nodes: [JSONValue] = added.map { device in
            .object([("path", .string(device.path)), ("type", .string("c")), ("major", .integer(device.major)),
                     ("minor", .integer(device.minor)), ("fileMode", .integer(Int(device.mode & 0o777))),
                     ("uid", .integer(0)), ("gid", .integer(0))])
        }
        let rules: [JSONValue] = added.map { device in
            .object([("allow", .bool(true)), ("type", .string("c")), ("major", .integer(device.major)),
                     ("minor", .integer(device.minor)), ("access", .string("rwm"))])
        }
        return linux
            .updating("devices") { .array(($0?.arrayValue ?? []) + nodes) }
            .updating("resources") { resources in
                (resources ?? .object([])).updating("devices") { .array(($0?.arrayValue ?? []) + rules) }
            }
    }
}
