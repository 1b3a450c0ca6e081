import CofferCore

/// Which processes the host may start in a running guest besides the workload: the image's exec
/// policy, carried on the guest kernel's measured command line (`coffer.exec=`), so the agent
/// enforces what the launch measurement covers and not what the untrusted host claims.
///
/// Argument forms: `coffer.exec=deny`, `coffer.exec=allow`, `coffer.exec=prefixes:HEX` where HEX
/// is the lower-case hex of `count u32 | list × count` (lists as in `WireStrings`).
public enum ExecPermission: Sendable, Equatable {
    case deny
    case allow
    /// argv vectors that start with one of these; each prefix's first element is an absolute
    /// program path, matched exactly against the program the agent would execute.
    case prefixes([[String]])

    public static let parameterName = "coffer.exec="

    public var kernelArgument: String {
        switch self {
        case .deny: return Self.parameterName + "deny"
        case .allow: return Self.parameterName + "allow"
        case .prefixes(let prefixes):
            var writer = ByteWriter()
            writer.writeUInt32BE(UInt32(truncatingIfNeeded: prefixes.count))
            for prefix in prefixes { writer.writeStrings(prefix) }
            return Self.parameterName + "prefixes:" + Hex.encode(writer.bytes)
        }
    }

    /// The permission on `commandLine`; `deny` when it names none (fail closed). More than one
    /// `coffer.exec=` or one that does not parse is refused.
    public static func parse(commandLine: String) throws(FieldError) -> ExecPermission {
        let arguments = commandLine.split(whereSeparator: { $0 == " " || $0 == "\n" }).filter { $0.hasPrefix(parameterName) }
        guard let argument = arguments.first else { return .deny }
        guard arguments.count == 1 else { throw FieldError("\(arguments.count) coffer.exec= arguments on the kernel command line") }
        let value = argument.dropFirst(parameterName.count)
        switch value {
        case "deny": return .deny
        case "allow": return .allow
        default:
            guard value.hasPrefix("prefixes:"), let bytes = Hex.decode(String(value.dropFirst("prefixes:".count))) else {
                throw FieldError("coffer.exec=\(value) is not deny, allow or prefixes:HEX")
            }
            var reader = ByteReader(bytes)
            do {
                let count = Int(try reader.readUInt32BE("count"))
                guard count <= reader.remaining / 4 else { throw FieldError("prefix count \(count) exceeds the argument") }
                var prefixes: [[String]] = []
                for index in 0..<count {
                    let prefix = try reader.readStrings("prefix \(index)")
                    guard let program = prefix.first, program.hasPrefix("/") else {
                        throw FieldError("exec prefix \(index) does not start with an absolute program path")
                    }
                    prefixes.append(prefix)
                }
                guard reader.isAtEnd else { throw FieldError("\(reader.remaining) trailing bytes in coffer.exec=") }
                return .prefixes(prefixes)
            } catch let error as FieldError {
                throw error
            } catch {
                throw FieldError("coffer.exec=: \(error)")
            }
        }
    }

    /// Whether the host may start `argv` whose program resolved to `program`. Under a prefix list
    /// the resolved program must equal the prefix's path exactly (no PATH lookup can swap it),
    /// the following arguments must match, and no `LD_` variable may be set: a loader variable
    /// would run other code under an allowed name.
    public func permits(program: String, argv: [String], env: [String]) -> Bool {
        switch self {
        case .deny: return false
        case .allow: return true
        case .prefixes(let prefixes):
            guard !env.contains(where: { $0.hasPrefix("LD_") }) else { return false }
            return prefixes.contains { prefix in
                guard let path = prefix.first, path == program, argv.count >= prefix.count else { return false }
                return Array(argv[1..<prefix.count]) == Array(prefix.dropFirst())
            }
        }
    }
}
