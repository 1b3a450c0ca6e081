/// The RFC 8259 parser: one pass over UTF-8 bytes, every read bounds checked.
///
/// Strictness is the same for every caller (collateral, broker requests, OCI bundles): the grammar
/// exactly (no comments, trailing commas, NaN, leading zeros, unescaped control characters),
/// valid UTF-8 only, no lone surrogates, numbers a double can hold, at most
/// `JSONValue.maximumDepth` nested containers, and no member name twice in one object.
public struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The one JSON value that `bytes` holds, with only white space around it.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONValue {
        try withParser(bytes) { (parser: inout JSONParser) throws(JSONError) in
            parser.skipSpace()
            let value = try parser.value(depth: 0)
            try parser.end()
            return value
        }
    }

    public static func parse(_ text: String) throws(JSONError) -> JSONValue { try parse(Array(text.utf8)) }

    /// The byte ranges (offsets from the first byte) of the member values of a top-level object,
    /// by name: how the exact signed text of DCAP's `tcbInfo` or `enclaveIdentity` is taken out of
    /// a PCS response without re-encoding it. The whole text is validated as `parse` does.
    public static func memberSpans(_ bytes: some Collection<UInt8>) throws(JSONError) -> [String: Range<Int>] {
        try withParser(bytes) { (parser: inout JSONParser) throws(JSONError) in
            parser.skipSpace()
            guard parser.current == UInt8(ascii: "{") else { throw parser.error("expected '{'") }
            var spans: [String: Range<Int>] = [:]
            _ = try parser.object(depth: 1, span: { name, span in spans[name] = span })
            try parser.end()
            return spans
        }
    }

    private static func withParser<T>(
        _ bytes: some Collection<UInt8>, _ body: (inout JSONParser) throws(JSONError) -> T
    ) throws(JSONError) -> T {
        let array = bytes as? [UInt8] ?? Array(bytes)
        let result: Result<T, JSONError> = array.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            do throws(JSONError) { return .success(try body(&parser)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    func error(_ reason: String, at offset: Int? = nil) -> JSONError { JSONError(offset: offset ?? self.offset, reason: reason) }

    var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0a, 0x0d, 0x09: offset += 1
            default: return
            }
        }
    }

    mutating func end() throws(JSONError) {
        skipSpace()
        guard offset == bytes.count else { throw error("text after the JSON value") }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONError) {
        guard current == byte else { throw error(current == nil ? "unexpected end of text, expected \(what)" : "expected \(what)") }
        offset += 1
    }

    mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        guard let byte = current else { throw error("unexpected end of text") }
        switch byte {
        case UInt8(ascii: "{"):
            guard depth < JSONValue.maximumDepth else { throw error("nesting deeper than \(JSONValue.maximumDepth)") }
            return .object(try object(depth: depth + 1, span: nil))
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

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - offset >= count else { throw error("truncated literal") }
        for index in 0..<count where bytes[offset + index] != word.utf8Start[index] {
            throw error("unexpected character")
        }
        offset += count
    }

    /// An object, from its '{'; `span` is told the byte range of each member's value.
    mutating func object(depth: Int, span: ((String, Range<Int>) -> Void)?) throws(JSONError) -> JSONObject {
        offset += 1
        var members: [JSONObject.Element] = []
        var names: Set<String>? = nil
        skipSpace()
        if current == UInt8(ascii: "}") { offset += 1; return JSONObject(uniqueMembers: members) }
        while true {
            skipSpace()
            let start = offset
            guard current == UInt8(ascii: "\"") else { throw error(current == nil ? "unexpected end of text, expected a member name" : "expected a member name") }
            let name = try string()
            /// Parsers disagree on which of two equal names wins (Python's json keeps the last,
            /// some keep the first): signed collateral or a broker request with a name twice could
            /// mean one thing to whoever checked it and another to whoever acts on it, so it is
            /// refused. Small objects are scanned; large ones get a set, so a hostile object of
            /// many members costs linear time, not quadratic.
            let duplicate: Bool
            if members.count < 16 {
                duplicate = members.contains { $0.key == name }
            } else {
                if names == nil { names = Set(members.map(\.key)) }
                duplicate = !names!.insert(name).inserted
            }
            guard !duplicate else { throw error("duplicate member \"\(name)\"", at: start) }
            skipSpace()
            try expect(UInt8(ascii: ":"), "':'")
            skipSpace()
            let valueStart = offset
            let member = try value(depth: depth)
            span?(name, valueStart..<offset)
            members.append((key: name, value: member))
            skipSpace()
            if current == UInt8(ascii: ",") { offset += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}'")
            return JSONObject(uniqueMembers: members)
        }
    }

    mutating func array(depth: Int) throws(JSONError) -> JSONValue {
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
    mutating func string() throws(JSONError) -> String {
        let opening = offset
        offset += 1
        var decoded: [UInt8] = []
        var run = offset
        while true {
            guard offset < bytes.count else { throw error("unterminated string", at: opening) }
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
            case UInt8(ascii: "u"): decoded.append(contentsOf: UTF8.encode(try unicodeEscape()).map(Array.init) ?? [])
            default: throw error("invalid escape", at: offset - 2)
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
        guard let text else { throw error("string is not valid UTF-8", at: opening) }
        offset += 1
        return text
    }

    /// The scalar of `\uXXXX` (the `\u` already read), joining a surrogate pair.
    mutating func unicodeEscape() throws(JSONError) -> Unicode.Scalar {
        let start = offset - 2
        let high = try hexQuad()
        if (0xD800...0xDBFF).contains(high) {
            guard bytes.count - offset >= 2, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                throw error("lone high surrogate", at: start)
            }
            offset += 2
            let low = try hexQuad()
            guard (0xDC00...0xDFFF).contains(low) else { throw error("high surrogate without a low one", at: start) }
            let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else { throw error("invalid surrogate pair", at: start) }
            return scalar
        }
        guard let scalar = Unicode.Scalar(high) else { throw error("lone low surrogate", at: start) }
        return scalar
    }

    mutating func hexQuad() throws(JSONError) -> UInt32 {
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

    /// A number, validated against `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept
    /// as its text.
    mutating func number() throws(JSONError) -> String {
        let start = offset
        func digits(_ parser: inout JSONParser) -> Int {
            let first = parser.offset
            while let byte = parser.current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { parser.offset += 1 }
            return parser.offset - first
        }
        if current == UInt8(ascii: "-") { offset += 1 }
        if current == UInt8(ascii: "0") {
            offset += 1
            if let next = current, next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") { throw error("leading zero in a number", at: start) }
        } else {
            guard digits(&self) > 0 else { throw error("invalid number", at: start) }
        }
        if current == UInt8(ascii: ".") {
            offset += 1
            guard digits(&self) > 0 else { throw error("invalid number: no digit after '.'", at: start) }
        }
        var exponent = false
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            offset += 1
            exponent = true
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard digits(&self) > 0 else { throw error("invalid number: no digit in the exponent", at: start) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        /// A number no double can hold reads as infinity in most parsers (Python's json, serde
        /// with arbitrary precision off) and as an error in others: refused, so that none of the
        /// readers Coffer talks to can see a different value. Only an exponent or more than 308
        /// digits can get there.
        if exponent || offset - start > 308, !(Double(text)?.isFinite ?? false) {
            throw error("number out of range", at: start)
        }
        return text
    }
}

extension JSONValue {
    /// Parses one JSON value (see `JSONParser` for the rules).
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONValue { try JSONParser.parse(bytes) }
    public static func parse(_ text: String) throws(JSONError) -> JSONValue { try JSONParser.parse(text) }
}
