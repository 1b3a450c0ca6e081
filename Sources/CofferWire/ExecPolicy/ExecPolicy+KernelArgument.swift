import CofferCore

/// The policy on the guest kernel's command line, which the launch measurement covers:
///
/// ```
/// coffer.exec=deny
/// coffer.exec=allow
/// coffer.exec=exact:HEX
/// ```
/// HEX is the lower-case hex of (big-endian; strings and lists as in `WireStrings`)
/// ```
/// count u32 | entry × count
/// entry = flags u8 | argv list | env-name list | user string | cwd string
/// ```
/// flags bit 0: trailing arguments allowed; other bits are zero. The encoding is deterministic
/// (one policy, one string), so the measurement of a launch follows from the image alone.
extension ExecPolicy {
    public static let parameterName = "coffer.exec"

    /// The smallest entry: flags, three empty counts and an empty string's length.
    static let minimumEntrySize = 1 + 4 + 4 + 4 + 4

    public var kernelArgument: String {
        switch self {
        case .deny: return Self.parameterName + "=deny"
        case .allow: return Self.parameterName + "=allow"
        case .exact(let entries):
            var writer = ByteWriter()
            writer.writeUInt32BE(UInt32(truncatingIfNeeded: entries.count))
            for entry in entries {
                writer.writeUInt8(entry.trailingArguments ? 1 : 0)
                writer.writeStrings(entry.argv)
                writer.writeStrings(entry.env)
                // An unresolved entry encodes as an empty user and cwd, which `parse` refuses:
                // the agent never guesses whose user a missing one meant.
                writer.writeString(entry.user ?? "")
                writer.writeString(entry.cwd ?? "")
            }
            return Self.parameterName + "=exact:" + Hex.encode(writer.bytes)
        }
    }

    /// The policy on `commandLine`; `deny` when it names none (fail closed). One that does not
    /// parse, or whose entries do not each name an absolute program, a user and an absolute
    /// working directory, is refused.
    public static func parse(commandLine: KernelCommandLine) throws(FieldError) -> ExecPolicy {
        guard let parameter = commandLine.parameter(parameterName) else { return .deny }
        guard let value = parameter.value else { throw FieldError("coffer.exec has no value") }
        switch value {
        case "deny": return .deny
        case "allow": return .allow
        default:
            guard value.hasPrefix("exact:"), let bytes = Hex.decode(String(value.dropFirst("exact:".count))) else {
                throw FieldError("coffer.exec=\(value.prefix(80)) is not deny, allow or exact:HEX")
            }
            return .exact(try entries(bytes))
        }
    }

    static func entries(_ bytes: [UInt8]) throws(FieldError) -> [Entry] {
        var reader = ByteReader(bytes)
        do {
            let count = Int(try reader.readUInt32BE("count"))
            guard count <= reader.remaining / minimumEntrySize else { throw FieldError("exec entry count \(count) exceeds the argument") }
            var entries: [Entry] = []
            for index in 0..<count {
                let flags = try reader.readUInt8("entry \(index) flags")
                guard flags & ~1 == 0 else { throw FieldError("exec entry \(index): unknown flags 0x\(Hex.encode([flags]))") }
                let entry = Entry(
                    argv: try reader.readStrings("entry \(index) argv"), trailingArguments: flags & 1 != 0,
                    env: try reader.readStrings("entry \(index) env"), user: try reader.readString("entry \(index) user"),
                    cwd: try reader.readString("entry \(index) cwd"))
                try entry.validate()
                entries.append(entry)
            }
            guard reader.isAtEnd else { throw FieldError("\(reader.remaining) trailing bytes in coffer.exec=") }
            return entries
        } catch let error as FieldError {
            throw error
        } catch {
            throw FieldError("coffer.exec=: \(error)")
        }
    }
}
