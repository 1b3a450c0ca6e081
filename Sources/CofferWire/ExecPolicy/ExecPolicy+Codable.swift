/// The policy in the image manifest (its canonical JSON feeds the image id):
///
/// ```
/// {"mode": "deny"}   {"mode": "allow"}
/// {"mode": "exact", "entries": [{"argv": [...], "trailing_args": false, "env": [...], "user": "0:0", "cwd": "/"}]}
/// ```
/// `user` and `cwd` are left out when unresolved. Decoding checks every entry as the agent does.
extension ExecPolicy: Codable {
    private enum CodingKeys: String, CodingKey { case mode, entries }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .deny: try container.encode("deny", forKey: .mode)
        case .allow: try container.encode("allow", forKey: .mode)
        case .exact(let entries):
            try container.encode("exact", forKey: .mode)
            try container.encode(entries, forKey: .entries)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .mode) {
        case "deny": self = .deny
        case "allow": self = .allow
        case "exact":
            let entries = try container.decode([Entry].self, forKey: .entries)
            do {
                for entry in entries { try entry.validate() }
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .entries, in: container, debugDescription: error.description)
            }
            self = .exact(entries)
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .mode, in: container, debugDescription: "unknown exec mode \(other)")
        }
    }
}

extension ExecPolicy.Entry: Codable {
    private enum CodingKeys: String, CodingKey {
        case argv, env, user, cwd
        case trailingArguments = "trailing_args"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(argv, forKey: .argv)
        try container.encode(trailingArguments, forKey: .trailingArguments)
        try container.encode(env, forKey: .env)
        try container.encodeIfPresent(user, forKey: .user)
        try container.encodeIfPresent(cwd, forKey: .cwd)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            argv: try container.decode([String].self, forKey: .argv),
            trailingArguments: try container.decodeIfPresent(Bool.self, forKey: .trailingArguments) ?? false,
            env: try container.decodeIfPresent([String].self, forKey: .env) ?? [],
            user: try container.decodeIfPresent(String.self, forKey: .user),
            cwd: try container.decodeIfPresent(String.self, forKey: .cwd))
    }
}
