/// One subcommand's options and operands, split by runc's own table of which options take a
/// value (runc 1.1: create.go, run.go, exec.go, delete.go, kill.go, start.go, state.go, ps.go).
public struct CommandOptions: Sendable, Equatable {
    /// Options in order, with their values (nil for booleans).
    public var options: [(name: String, value: String?)]
    /// The container id and what follows it (exec's command, kill's signal).
    public var operands: [String]

    public static func == (lhs: CommandOptions, rhs: CommandOptions) -> Bool {
        lhs.operands == rhs.operands && lhs.options.map(\.name) == rhs.options.map(\.name)
            && lhs.options.map(\.value) == rhs.options.map(\.value)
    }

    static let valueFlags: [String: Set<String>] = [
        "create": ["bundle", "b", "console-socket", "pid-file", "preserve-fds"],
        "run": ["bundle", "b", "console-socket", "pid-file", "preserve-fds"],
        "exec": [
            "console-socket", "cwd", "env", "e", "process", "p", "pid-file", "process-label", "apparmor",
            "cap", "c", "preserve-fds", "cgroup", "user", "u", "additional-gids", "g",
        ],
        "ps": ["format", "f"],
    ]

    public init(command: String, _ arguments: [String]) {
        let takesValue = Self.valueFlags[command] ?? []
        var options: [(String, String?)] = []
        var index = 0
        while index < arguments.count {
            // runc stops at the first operand: what follows the id belongs to the container.
            guard let (name, inline) = RuntimeCommandLine.flag(arguments[index]) else { break }
            index += 1
            if inline == nil, takesValue.contains(name), index < arguments.count {
                options.append((name, arguments[index]))
                index += 1
            } else {
                options.append((name, inline))
            }
        }
        if index < arguments.count, arguments[index] == "--" { index += 1 }
        self.options = options
        self.operands = Array(arguments[index...])
    }

    public var containerID: String? { operands.first }

    /// The last value of an option given by any of its names.
    public func value(_ names: String...) -> String? {
        options.last { names.contains($0.name) }?.value
    }

    /// All values of a repeatable option (`--env`).
    public func values(_ names: String...) -> [String] {
        options.filter { names.contains($0.name) }.compactMap(\.value)
    }

    /// Whether a boolean option is set (`--detach`, `--detach=true`).
    public func isSet(_ names: String...) -> Bool {
        guard let option = options.last(where: { names.contains($0.name) }) else { return false }
        return option.value == nil || option.value == "true" || option.value == "1"
    }
}
