/// A JSON value (RFC 8259), parsed from bytes in one pass.
///
/// DCAP collateral is read on every verification (the bundle, TCB Info, QE Identity); Foundation's
/// JSONDecoder was most of that cost on Linux. This parser builds plain values that the collateral
/// types then read field by field, naming the JSON path of anything missing or mistyped.
///
/// Strictness: the RFC 8259 grammar exactly (no comments, trailing commas, NaN, leading zeros or
/// unescaped control characters), valid UTF-8 only, no lone surrogates, at most `maximumDepth`
/// nesting levels (hostile input cannot exhaust the stack), and no duplicate member names.
enum JSONValue: Sendable, Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    /// The number's literal text, validated against the grammar; readers convert it exactly.
    case number(String)
    case bool(Bool)
    case null

    static let maximumDepth = 64

    /// Where and why the text is not JSON.
    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "\(reason) at byte \(offset)" }
    }

    static func parse(_ bytes: some Collection<UInt8>) throws(Malformed) -> JSONValue {
        let array = bytes as? [UInt8] ?? Array(bytes)
        let result: Result<JSONValue, Malformed> = array.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            do throws(Malformed) {
                parser.skipSpace()
                let value = try parser.value(depth: 0)
                parser.skipSpace()
                guard parser.offset == buffer.count else { throw parser.error("text after the JSON value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension JSONValue {
    /// The byte ranges of the member values of a top-level object, by name: how the exact signed
    /// text of `tcbInfo` or `enclaveIdentity` is taken out of a PCS response without re-encoding.
    static func memberSpans(_ bytes: [UInt8]) throws(Malformed) -> [String: Range<Int>] {
        let result: Result<[String: Range<Int>], Malformed> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            do throws(Malformed) {
                parser.skipSpace()
                try parser.expect(UInt8(ascii: "{"), "'{'")
                var spans: [String: Range<Int>] = [:]
                parser.skipSpace()
                if parser.current == UInt8(ascii: "}") { return .success(spans) }
                while true {
                    parser.skipSpace()
                    guard parser.current == UInt8(ascii: "\"") else { throw parser.error("expected a member name") }
                    let name = try parser.string()
                    parser.skipSpace()
                    try parser.expect(UInt8(ascii: ":"), "':'")
                    parser.skipSpace()
                    let start = parser.offset
                    _ = try parser.value(depth: 1)
                    guard spans.updateValue(start..<parser.offset, forKey: name) == nil else {
                        throw parser.error("duplicate member \"\(name)\"")
                    }
                    parser.skipSpace()
                    if parser.current == UInt8(ascii: ",") { parser.offset += 1; continue }
                    try parser.expect(UInt8(ascii: "}"), "',' or '}'")
                    parser.skipSpace()
                    guard parser.offset == buffer.count else { throw parser.error("text after the JSON value") }
                    return .success(spans)
                }
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// The recursive-descent parser behind `JSONValue.parse`; every read is bounds checked.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(_ reason: String) -> JSONValue.Malformed { JSONValue.Malformed(offset: offset, reason: reason) }

    var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0a, 0x0d, 0x09: offset += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONValue.Malformed) {
        guard current == byte else { throw error("expected \(what)") }
        offset += 1
    }

    mutating func value(depth: Int) throws(JSONValue.Malformed) -> JSONValue {
        guard let byte = current else { throw error("unexpected end of text") }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < JSONValue.maximumDepth else { throw error("nesting deeper than \(JSONValue.maximumDepth)") }
            return try object(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < JSONValue.maximumDepth else { throw error("nesting deeper than \(JSONValue.maximumDepth)") }
            return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONValue.Malformed) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - offset >= count else { throw error("truncated literal") }
        for index in 0..<count where bytes[offset + index] != word.utf8Start[index] {
            throw error("unexpected character")
        }
        offset += count
    }

    mutating func object(depth: Int) throws(JSONValue.Malformed) -> JSONValue {
        offset += 1
        var members: [String: JSONValue] = [:]
        skipSpace()
        if current == UInt8(ascii: "}") { offset += 1; return .object(members) }
        while true {
            skipSpace()
            let start = offset
            guard current == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let name = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"), "':'")
            skipSpace()
            let member = try value(depth: depth)
            /// Parsers disagree on which of two equal names wins; signed collateral with duplicate
            /// names could then mean different things to different verifiers, so it is refused.
            guard members.updateValue(member, forKey: name) == nil else {
                throw JSONValue.Malformed(offset: start, reason: "duplicate member \"\(name)\"")
            }
            skipSpace()
            if current == UInt8(ascii: ",") { offset += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}'")
            return .object(members)
        }
    }

    mutating func array(depth: Int) throws(JSONValue.Malformed) -> JSONValue {
        offset += 1
        var elements: [JSONValue] = []
        skipSpace()
        if current == UInt8(ascii: "]") { offset += 1; return .array(elements) }
        while true {
            skipSpace()
            elements.append(try value(depth: depth))
            skipSpace()
            if current == UInt8(ascii: ",") { offset += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']'")
            return .array(elements)
        }
    }

    /// A string, from its opening quote. Runs without escapes are copied as they are.
    mutating func string() throws(JSONValue.Malformed) -> String {
        offset += 1
        var decoded: [UInt8] = []
        var run = offset
        while true {
            guard offset < bytes.count else { throw error("unterminated string") }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw error("control character in a string") }
            if byte != UInt8(ascii: "\\") { offset += 1; continue }
            decoded.append(contentsOf: bytes[run..<offset])
            offset += 1
            guard let escape = current else { throw error("unterminated escape") }
            offset += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0c)
            case UInt8(ascii: "n"): decoded.append(0x0a)
            case UInt8(ascii: "r"): decoded.append(0x0d)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"): appendScalar(try unicodeEscape(), to: &decoded)
            default: throw error("invalid escape")
            }
            run = offset
        }
        let text: String?
        if decoded.isEmpty {
            text = String(validating: UnsafeBufferPointer(rebasing: bytes[run..<offset]), as: UTF8.self)
        } else {
            decoded.append(contentsOf: bytes[run..<offset])
            text = String(validating: decoded, as: UTF8.self)
        }
        guard let text else { throw error("string is not valid UTF-8") }
        offset += 1
        return text
    }

    /// The scalar of `\uXXXX` (the `\u` already read), joining a surrogate pair.
    mutating func unicodeEscape() throws(JSONValue.Malformed) -> Unicode.Scalar {
        let high = try hexQuad()
        if (0xD800...0xDBFF).contains(high) {
            guard bytes.count - offset >= 2, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                throw error("lone high surrogate")
            }
            offset += 2
            let low = try hexQuad()
            guard (0xDC00...0xDFFF).contains(low) else { throw error("high surrogate without a low one") }
            let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw error("invalid surrogate pair") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(high) else { throw error("lone low surrogate") }
        return scalar
    }

    mutating func hexQuad() throws(JSONValue.Malformed) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    func appendScalar(_ scalar: Unicode.Scalar, to output: inout [UInt8]) {
        output.append(contentsOf: UTF8.encode(scalar).map(Array.init) ?? [])
    }

    /// A number, validated against `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func number() throws(JSONValue.Malformed) -> String {
        let start = offset
        func digits(_ parser: inout JSONParser) -> Int {
            let first = parser.offset
            while let byte = parser.current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { parser.offset += 1 }
            return parser.offset - first
        }
        if current == UInt8(ascii: "-") { offset += 1 }
        if current == UInt8(ascii: "0") {
            offset += 1
        } else {
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        if current == UInt8(ascii: ".") {
            offset += 1
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard digits(&self) > 0 else { throw error("invalid number") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
    }
}
