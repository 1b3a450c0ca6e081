/// The reader behind `TOMLDocument`: one pass over the bytes, byte by byte (all of TOML's syntax is
/// ASCII), string contents checked as UTF-8 when they are taken.
struct TOMLParser {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(TOMLError) -> TOMLDocument {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { throw fail("a byte order mark is not allowed") }
        var document = TOMLDocument()
        var current = TOMLDocument.Table(name: "")
        var inRoot = true
        func close(_ table: TOMLDocument.Table) {
            if inRoot { document.root = table } else { document.tables.append(table) }
        }
        while true {
            skipWhitespace()
            guard let byte = peek() else { break }
            switch byte {
            case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                try endOfLine()
            case UInt8(ascii: "["):
                index += 1
                if peek() == UInt8(ascii: "[") { throw fail("arrays of tables ([[...]]) are not supported in init-data") }
                skipWhitespace()
                let name = try key()
                skipWhitespace()
                guard peek() == UInt8(ascii: "]") else { throw fail(peek() == UInt8(ascii: ".") ? "dotted table names are not supported in init-data" : "expected ] after the table name") }
                index += 1
                if document.tables.contains(where: { $0.name == name }) || (!inRoot && current.name == name) { throw fail("table [\(name)] is defined twice") }
                if (inRoot ? current : document.root)[name] != nil { throw fail("[\(name)] redefines the key \(name)") }
                try endOfLine()
                close(current)
                inRoot = false
                current = TOMLDocument.Table(name: name)
            default:
                let name = try key()
                skipWhitespace()
                if peek() == UInt8(ascii: ".") { throw fail("dotted keys are not supported in init-data (key \(name))") }
                guard peek() == UInt8(ascii: "=") else { throw fail("expected = after the key \(name)") }
                index += 1
                skipWhitespace()
                let value = try stringValue(for: name)
                if current[name] != nil { throw fail("the key \(name) appears twice\(current.name.isEmpty ? "" : " in [\(current.name)]")") }
                try endOfLine()
                current.pairs.append((name, value))
            }
        }
        close(current)
        return document
    }

    // MARK: Pieces

    private func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private func fail(_ reason: String) -> TOMLError { TOMLError(line: line, reason) }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 { index += 1 }
    }

    /// Whitespace, an optional comment, then a newline or the end of the document.
    private mutating func endOfLine() throws(TOMLError) {
        skipWhitespace()
        if peek() == UInt8(ascii: "#") {
            while let byte = peek(), byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") {
                if Self.isControl(byte) { throw fail("a control character (0x\(Self.hex(byte))) in a comment") }
                index += 1
            }
        }
        guard let byte = peek() else { return }
        if byte == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") { index += 2 }
        else if byte == UInt8(ascii: "\n") { index += 1 }
        else { throw fail("unexpected \(Self.describe(byte)) after the value; one key = value per line") }
        line += 1
    }

    private mutating func key() throws(TOMLError) -> String {
        guard let byte = peek() else { throw fail("expected a key, found the end of the document") }
        if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
            if peek(1) == byte && peek(2) == byte { throw fail("a multi-line string cannot be a key") }
            let name = byte == UInt8(ascii: "\"") ? try basicString() : try literalString()
            return name
        }
        let start = index
        while let byte = peek(), Self.isBareKey(byte) { index += 1 }
        guard index > start else { throw fail("expected a key, found \(Self.describe(byte))") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// The value: a string in one of TOML's four forms. Anything else is named and refused.
    private mutating func stringValue(for key: String) throws(TOMLError) -> String {
        switch peek() {
        case UInt8(ascii: "\"")?:
            return peek(1) == UInt8(ascii: "\"") && peek(2) == UInt8(ascii: "\"") ? try multilineString(quote: UInt8(ascii: "\"")) : try basicString()
        case UInt8(ascii: "'")?:
            return peek(1) == UInt8(ascii: "'") && peek(2) == UInt8(ascii: "'") ? try multilineString(quote: UInt8(ascii: "'")) : try literalString()
        case nil, UInt8(ascii: "\n")?, UInt8(ascii: "\r")?, UInt8(ascii: "#")?:
            throw fail("the key \(key) has no value")
        case let byte?:
            let kind = byte == UInt8(ascii: "[") ? "an array" : byte == UInt8(ascii: "{") ? "an inline table"
                : byte == UInt8(ascii: "t") || byte == UInt8(ascii: "f") ? "a boolean" : "a number or date"
            throw fail("the value of \(key) is \(kind); init-data values must be strings")
        }
    }

    /// `"..."` with escapes, on one line.
    private mutating func basicString() throws(TOMLError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw fail("a string is not closed before the end of the document") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try text(out)
            case UInt8(ascii: "\\"):
                index += 1
                try escape(into: &out)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                throw fail("a newline inside a one-line string; use \"\"\" for multi-line text")
            default:
                if Self.isControl(byte) { throw fail("a control character (0x\(Self.hex(byte))) inside a string; escape it") }
                out.append(byte)
                index += 1
            }
        }
    }

    /// `'...'`: raw text, on one line.
    private mutating func literalString() throws(TOMLError) -> String {
        index += 1
        let start = index
        while true {
            guard let byte = peek() else { throw fail("a string is not closed before the end of the document") }
            if byte == UInt8(ascii: "'") { break }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { throw fail("a newline inside a one-line string; use ''' for multi-line text") }
            if Self.isControl(byte) { throw fail("a control character (0x\(Self.hex(byte))) inside a literal string") }
            index += 1
        }
        let value = Array(bytes[start..<index])
        index += 1
        return try text(value)
    }

    /// `"""..."""` (escapes, line-ending backslash) or `'''...'''` (raw). A newline right after the
    /// opening delimiter is not part of the value; up to two quotes may touch the closing one.
    private mutating func multilineString(quote: UInt8) throws(TOMLError) -> String {
        let basic = quote == UInt8(ascii: "\"")
        index += 3
        if peek() == UInt8(ascii: "\n") { index += 1; line += 1 }
        else if peek() == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { index += 2; line += 1 }
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw fail("a multi-line string is not closed before the end of the document") }
            if byte == quote {
                var run = 0
                while peek(run) == quote { run += 1 }
                if run >= 3 {
                    guard run <= 5 else { throw fail("too many quotes (\(run)) closing a multi-line string") }
                    out += [UInt8](repeating: quote, count: run - 3)
                    index += run
                    return try text(out)
                }
                out += [UInt8](repeating: quote, count: run)
                index += run
                continue
            }
            if byte == UInt8(ascii: "\n") {
                out.append(byte); index += 1; line += 1
            } else if byte == UInt8(ascii: "\r") {
                guard peek(1) == UInt8(ascii: "\n") else { throw fail("a carriage return not followed by a newline") }
                out += [0x0D, 0x0A]; index += 2; line += 1
            } else if basic && byte == UInt8(ascii: "\\") {
                index += 1
                if try !lineEndingBackslash() { try escape(into: &out) }
            } else {
                if Self.isControl(byte) { throw fail("a control character (0x\(Self.hex(byte))) inside a string") }
                out.append(byte)
                index += 1
            }
        }
    }

    /// After a backslash in a `"""` string: whitespace then a newline means the backslash, the
    /// newline and all whitespace and newlines after it are dropped. Returns false (consuming
    /// nothing) when the backslash starts an ordinary escape.
    private mutating func lineEndingBackslash() throws(TOMLError) -> Bool {
        var probe = index
        while probe < bytes.count, bytes[probe] == 0x20 || bytes[probe] == 0x09 { probe += 1 }
        guard probe < bytes.count, bytes[probe] == UInt8(ascii: "\n") || (bytes[probe] == UInt8(ascii: "\r") && probe + 1 < bytes.count && bytes[probe + 1] == UInt8(ascii: "\n")) else {
            if probe > index { throw fail("a backslash followed by spaces must end the line") }
            return false
        }
        index = probe
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
            if byte == UInt8(ascii: "\r") && peek(1) != UInt8(ascii: "\n") { throw fail("a carriage return not followed by a newline") }
            if byte == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }
        return true
    }

    /// One escape after a backslash: \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX (a Unicode scalar).
    private mutating func escape(into out: inout [UInt8]) throws(TOMLError) {
        guard let byte = peek() else { throw fail("a backslash at the end of the document") }
        index += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "b"): 0x08, UInt8(ascii: "t"): 0x09, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "f"): 0x0C,
            UInt8(ascii: "r"): 0x0D, UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C,
        ]
        if let value = simple[byte] { out.append(value); return }
        let digits: Int
        switch byte {
        case UInt8(ascii: "u"): digits = 4
        case UInt8(ascii: "U"): digits = 8
        default: throw fail("an unknown escape \\\(Self.describe(byte))")
        }
        var scalar: UInt32 = 0
        for _ in 0..<digits {
            guard let digit = peek().flatMap(Self.hexValue) else { throw fail("\\\(Character(Unicode.Scalar(byte))) needs \(digits) hexadecimal digits") }
            scalar = scalar << 4 | UInt32(digit)
            index += 1
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw fail("the escape names U+\(String(scalar, radix: 16, uppercase: true)), which is not a Unicode scalar value") }
        out += Array(String(Character(unicode)).utf8)
    }

    /// The bytes as a string, refusing invalid UTF-8 instead of repairing it.
    private func text(_ utf8: [UInt8]) throws(TOMLError) -> String {
        let value = String(decoding: utf8, as: UTF8.self)
        guard value.utf8.elementsEqual(utf8) else { throw fail("a string is not valid UTF-8") }
        return value
    }

    // MARK: Byte classes

    private static func isBareKey(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// TOML forbids U+0000–U+0008, U+000A–U+001F and U+007F in strings and comments (tab is allowed).
    private static func isControl(_ byte: UInt8) -> Bool { (byte < 0x20 && byte != 0x09) || byte == 0x7F }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    private static func hex(_ byte: UInt8) -> String { byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }

    private static func describe(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(hex(byte))"
    }
}
