/// What an image's configuration says to run, and how (config.md, "config" properties
/// Entrypoint, Cmd, Env, WorkingDir, User). Empty strings in the config are absent values here.
public struct ImageDefaults: Sendable, Equatable, Codable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var env: [String]
    public var workingDir: String?
    public var user: String?

    public init(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String] = [],
                workingDir: String? = nil, user: String? = nil) {
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.workingDir = workingDir
        self.user = user
    }

    init(_ configuration: OCIImageConfiguration) {
        let settings = configuration.config
        self.init(entrypoint: settings?.Entrypoint, cmd: settings?.Cmd, env: settings?.Env ?? [],
                  workingDir: settings?.WorkingDir.flatMap { $0.isEmpty ? nil : $0 },
                  user: settings?.User.flatMap { $0.isEmpty ? nil : $0 })
    }
}
