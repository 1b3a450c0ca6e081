import CofferCore

/// The guest kernel's command line split into parameters exactly as the kernel splits it
/// (lib/cmdline.c `next_arg`, called by kernel/params.c `parse_args`), the one reader of every
/// `coffer.*` parameter.
///
/// Why the kernel's rules and not a split on spaces: `x="a coffer.exec=allow "` is one parameter
/// (`x`) to the kernel and to a verifier that reads the line as the kernel does, but a naive split
/// sees a `coffer.exec=allow` in it. Every reader of the measured line must agree on what it says.
///
/// The rules, as `next_arg` applies them:
/// - parameters are separated by runs of kernel whitespace (`isspace`: space, `\t`, `\n`, `\v`,
///   `\f`, `\r` and the byte 0xA0, which the kernel's Latin-1 ctype table counts as a space);
/// - a double quote toggles quoting anywhere in a parameter (`x="a b"`), and whitespace inside
///   quotes does not separate;
/// - the name ends at the first `=` that is not the parameter's first byte;
/// - a parameter that starts with `"` loses that quote and a quote that ends it; a value that starts
///   with `"` loses that quote and a quote that ends the parameter. Other quotes stay.
///
/// Parameters after `--` (the kernel hands them to init instead) are read like the others: the
/// agent is init, and a `coffer.*` there is still one the line carries.
public struct KernelCommandLine: Sendable, Equatable {
    public struct Parameter: Sendable, Equatable {
        public var name: String
        /// nil for a parameter without `=`.
        public var value: String?

        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    /// The `coffer.*` parameters the launcher writes (`QEMUCommand.kernelCommandLine`, `GuestLaunch`).
    /// Any other `coffer.*` name is refused: a misspelt or unknown one would otherwise be ignored,
    /// and a verifier reading the line could believe it meant something the agent does not do.
    public static let cofferParameters: Set<String> = [
        "coffer.exec", "coffer.workload", "coffer.verity", "coffer.net", "coffer.initdata", "coffer.kbs", "coffer.tee",
    ]

    public let parameters: [Parameter]

    public init(_ text: String) throws(FieldError) { try self.init(bytes: Array(text.utf8)) }

    /// Splits `bytes` (as read from /proc/cmdline). Refuses a NUL byte, an unknown `coffer.*` name
    /// and a `coffer.*` name given twice: with two, a verifier could read one value while the agent
    /// acted on the other.
    public init(bytes: [UInt8]) throws(FieldError) {
        guard !bytes.contains(0) else { throw FieldError("the kernel command line contains a NUL byte") }
        parameters = Self.split(bytes)
        var seen: Set<String> = []
        for parameter in parameters where parameter.name.hasPrefix("coffer.") {
            guard Self.cofferParameters.contains(parameter.name) else {
                throw FieldError(
                    "unknown kernel parameter \(parameter.name.prefix(80)) (Coffer's are \(Self.cofferParameters.sorted().joined(separator: ", ")))")
            }
            guard seen.insert(parameter.name).inserted else {
                throw FieldError("kernel parameter \(parameter.name) appears more than once on the command line")
            }
        }
    }

    /// The parameter called `name`; for a `coffer.*` name there is at most one.
    public func parameter(_ name: String) -> Parameter? { parameters.first { $0.name == name } }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) || byte == 0xA0 }

    /// `parse_args`' loop: skip whitespace, take one `next_arg`, repeat.
    static func split(_ bytes: [UInt8]) -> [Parameter] {
        var result: [Parameter] = []
        var index = bytes.startIndex
        while index < bytes.endIndex, isSpace(bytes[index]) { index += 1 }
        while index < bytes.endIndex {
            let (parameter, next) = nextArgument(bytes, from: index)
            result.append(parameter)
            index = next
            while index < bytes.endIndex, isSpace(bytes[index]) { index += 1 }
        }
        return result
    }

    /// One `next_arg`, transcribed: the C code ends strings by writing NULs into the buffer, so the
    /// parameter is copied and the same NULs are written into the copy.
    static func nextArgument(_ bytes: [UInt8], from start: Int) -> (Parameter, next: Int) {
        var begin = start
        var inQuote = false, quoted = false
        if bytes[begin] == UInt8(ascii: "\"") {
            begin += 1
            inQuote = true
            quoted = true
        }
        var end = begin
        var equals: Int?  // relative to `begin`; the kernel's `equals == 0` (none, or at 0) is nil
        while end < bytes.endIndex {
            if isSpace(bytes[end]) && !inQuote { break }
            if equals == nil, bytes[end] == UInt8(ascii: "="), end > begin { equals = end - begin }
            if bytes[end] == UInt8(ascii: "\"") { inQuote.toggle() }
            end += 1
        }
        var text = Array(bytes[begin..<end])
        let count = text.count  // the kernel's `i`
        var valueStart: Int?
        if let equals {
            text[equals] = 0
            var start = equals + 1
            // "Don't include quotes in value."
            if start < count, text[start] == UInt8(ascii: "\"") {
                start += 1
                if text[count - 1] == UInt8(ascii: "\"") { text[count - 1] = 0 }
            }
            valueStart = start
        }
        if quoted, count > 0, text[count - 1] == UInt8(ascii: "\"") { text[count - 1] = 0 }
        func cString(from start: Int) -> String {
            let tail = start < count ? text[start...] : []
            return String(decoding: tail.prefix { $0 != 0 }, as: UTF8.self)
        }
        let parameter = Parameter(name: cString(from: 0), value: valueStart.map(cString(from:)))
        // The byte that ended the parameter (whitespace) is consumed with it.
        return (parameter, end < bytes.endIndex ? end + 1 : end)
    }
}
