/// What a confidential launch provisions before the workload starts: the broker to attest to,
/// the secrets to fetch and where they go, the encrypted volumes and where they are mounted. The
/// launcher writes it as the `coffer.json` entry of the launch's init-data, whose digest is
/// measured (decision 0022); the agent reads it back from the init-data only after checking that
/// digest, and does exactly what it says and nothing the host adds.
public struct LaunchConfiguration: Sendable, Equatable {
    /// The key broker: where the host relays to, and the key whose signatures the guest accepts.
    public struct Broker: Sendable, Equatable {
        /// The broker's base URL, for the host's relay (the guest never dials it).
        public var url: String
        /// The broker's ES256 signing key, PEM (SubjectPublicKeyInfo). Resources not signed by it
        /// for this guest and this path are refused.
        public var identity: String

        public init(url: String, identity: String) {
            self.url = url
            self.identity = identity
        }
    }

    /// A resource placed in a file before the workload starts (tmpfs, mode 0400, the workload's user).
    public struct Secret: Sendable, Equatable {
        /// `kbs:///repo/type/tag`
        public var resource: String
        /// Absolute, under `/run/secrets/`.
        public var path: String

        public init(resource: String, path: String) {
            self.resource = resource
            self.path = path
        }
    }

    /// An encrypted persistent volume: the n-th data disk after the root disks.
    public struct Volume: Sendable, Equatable {
        public var name: String
        /// The resource holding its key (96 bytes, decision 0023).
        public var key: String
        /// Where the workload sees it.
        public var path: String

        public init(name: String, key: String, path: String) {
            self.name = name
            self.key = key
            self.path = path
        }
    }

    public static let secretsDirectory = "/run/secrets"
    public static let maxSecrets = 64
    public static let maxVolumes = 8

    /// The image id (`sha256:` + 64 hex) the launch boots: what broker rules naming `image_ids`
    /// match once the init-data's digest has checked.
    public var image: String
    public var broker: Broker?
    public var secrets: [Secret]
    public var volumes: [Volume]

    public init(image: String, broker: Broker? = nil, secrets: [Secret] = [], volumes: [Volume] = []) {
        self.image = image
        self.broker = broker
        self.secrets = secrets
        self.volumes = volumes
    }

    /// Whether the launch needs the broker at all.
    public var needsBroker: Bool { !secrets.isEmpty || !volumes.isEmpty }

    /// Checks what both sides rely on: the launcher before it measures, the agent before it acts.
    /// Paths are plain (absolute, no `.`, `..` or empty components), secrets stay under
    /// /run/secrets, volumes stay out of it and of the kernel's file systems, nothing is named
    /// twice, and anything to fetch has a broker to fetch it from.
    public func validate() throws(LaunchConfigurationError) {
        let digest = image.hasPrefix("sha256:") ? image.dropFirst(7) : ""
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw .invalid("image \(image.prefix(80)) is not an image id (sha256: and 64 lower-case hex digits)")
        }
        if needsBroker && broker == nil { throw .invalid("secrets and volumes need a broker (--kbs)") }
        if let broker {
            guard broker.url.hasPrefix("https://") || broker.url.hasPrefix("http://") else {
                throw .invalid("the broker URL \(broker.url.prefix(80)) is not http(s)://")
            }
            guard broker.identity.hasPrefix("-----BEGIN PUBLIC KEY-----") else {
                throw .invalid("the broker identity is not a PEM public key (-----BEGIN PUBLIC KEY-----)")
            }
        }
        guard secrets.count <= Self.maxSecrets else { throw .invalid("\(secrets.count) secrets; at most \(Self.maxSecrets)") }
        guard volumes.count <= Self.maxVolumes else { throw .invalid("\(volumes.count) volumes; at most \(Self.maxVolumes)") }
        var paths = Set<String>()
        for secret in secrets {
            try Self.checkResource(secret.resource)
            try Self.checkPath(secret.path, what: "secret")
            guard secret.path.hasPrefix(Self.secretsDirectory + "/") else {
                throw .invalid("secret path \(secret.path.prefix(80)) is not under \(Self.secretsDirectory)/")
            }
            guard paths.insert(secret.path).inserted else { throw .invalid("two secrets go to \(secret.path.prefix(80))") }
        }
        var names = Set<String>()
        for volume in volumes {
            try Self.checkResource(volume.key)
            try Self.checkPath(volume.path, what: "volume")
            for reserved in ["/proc", "/sys", "/dev", "/run", Self.secretsDirectory] where volume.path == reserved || volume.path.hasPrefix(reserved + "/") {
                throw .invalid("volume \(volume.name.prefix(64)) cannot be mounted at \(volume.path.prefix(80)) (inside \(reserved))")
            }
            guard names.insert(volume.name).inserted else { throw .invalid("the volume \(volume.name.prefix(64)) is named twice") }
            guard paths.insert(volume.path).inserted else { throw .invalid("two mounts go to \(volume.path.prefix(80))") }
        }
        let volumePaths = volumes.map(\.path)
        for path in volumePaths where volumePaths.contains(where: { $0 != path && $0.hasPrefix(path + "/") }) {
            throw .invalid("volume mounts nest (\(path.prefix(80)) holds another)")
        }
    }

    static func checkPath(_ path: String, what: String) throws(LaunchConfigurationError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard path.hasPrefix("/"), path.utf8.count <= 256, parts.count >= 2,
              parts.dropFirst().allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
              !path.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw .invalid("\(what) path \(path.prefix(80)) must be absolute and plain (no ., .., // or trailing /), at most 256 bytes")
        }
    }

    /// `kbs:///repo/type/tag`, by the one resource URI parser (`ResourceURI`, which the broker's
    /// route also uses): Coffer requires the authority empty so one resource has one spelling.
    static func checkResource(_ uri: String) throws(LaunchConfigurationError) {
        do { _ = try ResourceURI(parsing: uri) } catch { throw .invalid("\(error)") }
    }
}

extension LaunchConfiguration {
    /// The configuration an init-data document carries under `[data] "coffer.json"`, or nil when
    /// it carries none (a document of CoCo's entries only). Read strictly, then validated.
    public init?(initData document: InitDataDocument) throws(LaunchConfigurationError) {
        guard let text = document[Self.initDataKey] else { return nil }
        try self.init(parsing: text)
    }

    /// The init-data document for this configuration (sha384, Coffer's fixed layout): what the
    /// launcher measures and hands the guest.
    public func initDataDocument() throws -> InitDataDocument {
        try InitDataDocument(algorithm: .sha384, data: [(key: Self.initDataKey, value: serialized)])
    }
}

public enum LaunchConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .invalid(let reason): "launch configuration: \(reason)"
        case .malformed(let reason): "launch configuration does not parse: \(reason)"
        }
    }
}
