import CofferJSON

/// The `coffer.json` entry of a launch's init-data, version 1:
///
/// ```
/// {"broker":{"identity":"-----BEGIN PUBLIC KEY-----…","url":"https://…"},
///  "image":"sha256:…","secrets":[{"path":"/run/secrets/api-key","resource":"kbs:///default/app/api-key"}],
///  "version":1,"volumes":[{"key":"kbs:///default/volume/data","name":"data","path":"/data"}]}
/// ```
/// Written canonically (RFC 8785), so the same launch gives the same init-data bytes; read
/// strictly: unknown members are refused, since the guest would not honour them.
extension LaunchConfiguration {
    /// The init-data `[data]` key Coffer's configuration is stored under.
    public static let initDataKey = "coffer.json"
    public static let version = 1

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("version", .integer(Self.version)),
            ("image", .string(image)),
            ("secrets", .array(secrets.map { .object([("resource", .string($0.resource)), ("path", .string($0.path))]) })),
            ("volumes", .array(volumes.map { .object([("name", .string($0.name)), ("key", .string($0.key)), ("path", .string($0.path))]) })),
        ]
        if let broker {
            members.append(("broker", .object([("url", .string(broker.url)), ("identity", .string(broker.identity))])))
        }
        return .object(members)
    }

    /// The canonical bytes, as they go into the init-data.
    public var serialized: String { String(decoding: CanonicalJSON.serialize(json), as: UTF8.self) }

    /// Reads and validates a configuration.
    public init(parsing text: String) throws(LaunchConfigurationError) {
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw .malformed("\(error)") }
        guard let object = value.objectValue else { throw .malformed("not a JSON object") }
        try Self.only(["version", "image", "broker", "secrets", "volumes"], in: object, at: "")
        guard value["version"] == .integer(Self.version) else {
            throw .malformed("version must be \(Self.version)")
        }
        guard let image = value["image"]?.stringValue else { throw .malformed("image must be a string") }
        var broker: Broker?
        if let member = value["broker"] {
            guard let fields = member.objectValue else { throw .malformed("broker must be an object") }
            try Self.only(["url", "identity"], in: fields, at: "broker.")
            guard let url = member["url"]?.stringValue, let identity = member["identity"]?.stringValue else {
                throw .malformed("broker needs url and identity strings")
            }
            broker = Broker(url: url, identity: identity)
        }
        let secrets = try Self.list(value["secrets"], "secrets", ["resource", "path"]) { Secret(resource: $0[0], path: $0[1]) }
        let volumes = try Self.list(value["volumes"], "volumes", ["name", "key", "path"]) { Volume(name: $0[0], key: $0[1], path: $0[2]) }
        self.init(image: image, broker: broker, secrets: secrets, volumes: volumes)
        try validate()
    }

    private static func only(_ names: Set<String>, in object: JSONObject, at prefix: String) throws(LaunchConfigurationError) {
        if let unknown = object.keys.first(where: { !names.contains($0) }) {
            throw .malformed("unknown member \(prefix)\(unknown.prefix(64))")
        }
    }

    /// An array of objects with exactly these string members (absent: empty).
    private static func list<T>(_ value: JSONValue?, _ name: String, _ fields: [String], _ make: ([String]) -> T) throws(LaunchConfigurationError) -> [T] {
        guard let value else { return [] }
        guard let array = value.arrayValue else { throw .malformed("\(name) must be an array") }
        var items: [T] = []
        for (index, element) in array.enumerated() {
            guard let object = element.objectValue else { throw .malformed("\(name)[\(index)] must be an object") }
            try only(Set(fields), in: object, at: "\(name)[\(index)].")
            var strings: [String] = []
            for field in fields {
                guard let text = element[field]?.stringValue else { throw .malformed("\(name)[\(index)].\(field) must be a string") }
                strings.append(text)
            }
            items.append(make(strings))
        }
        return items
    }
}
