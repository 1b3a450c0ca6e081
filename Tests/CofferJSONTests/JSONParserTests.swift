import Testing
@testable import CofferJSON

/// The one parser: RFC 8259 exactly, plus what Coffer adds for hostile input (duplicate names
/// refused, nesting bounded, numbers a double can hold), with the byte offset of every failure.
@Suite struct JSONParserTests {
    func parse(_ text: String) throws(JSONError) -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func failure(_ text: String) -> JSONError? {
        do { _ = try parse(text); return nil } catch { return error }
    }

    @Test func readsEveryKindOfValue() throws {
        #expect(try parse(#" {"a": [1, -2.5e3, 0, true, false, null, "s"], "b": {}} "#) == .object([
            ("a", .array([.number("1"), .number("-2.5e3"), .number("0"), .bool(true), .bool(false), .null, .string("s")])),
            ("b", .object([])),
        ]))
        // RFC 8259 §2: any value at the top, with white space (space, tab, LF, CR) around it.
        #expect(try parse("\t\r\n 7 \n") == .number("7"))
        #expect(try parse(#""x""#) == .string("x"))
        #expect(try parse("[]") == .array([]))
    }

    @Test func decodesEscapesAndUTF8() throws {
        #expect(try parse(#"["a\"\\\/\b\f\n\r\t", "\u00e9\ud83d\ude00", "é😀", "\u0000"]"#)
            == .array([.string("a\"\\/\u{8}\u{c}\n\r\t"), .string("é😀"), .string("é😀"), .string("\u{0}")]))
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":1 \"b\":2}", "01", "-01", "1.", ".5", "+1",
        "-", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "'a'", "[1] 2", "tru", "nul", "falsey", "\"abc",
        "\"\u{1}\"", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"\\", "[1e999]", "-1e400", "// c\n1", "[1,/*c*/2]",
    ])
    func refusesWhatRFC8259Refuses(text: String) {
        #expect(failure(text) != nil, "\(text.debugDescription)")
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONError.self) { try JSONValue.parse([0x22, 0xff, 0xfe, 0x22]) }
        #expect(throws: JSONError.self) { try JSONValue.parse([0x22, 0xc3, 0x22]) }  // truncated sequence
        #expect(throws: JSONError.self) { try JSONValue.parse([0x22, 0xed, 0xa0, 0x80, 0x22]) }  // encoded surrogate
    }

    @Test func errorsNameTheByteOffset() {
        #expect(failure(#"{"a":1,"b":tru}"#) == JSONError(offset: 11, reason: "unexpected character"))
        #expect(failure(#"{"a":1,"b":tr"#) == JSONError(offset: 11, reason: "truncated literal"))
        #expect(failure("[1,2] x") == JSONError(offset: 6, reason: "text after the JSON value"))
        #expect(failure("[01]")?.offset == 1)
        #expect(failure("[\"ab\u{1}\"]") == JSONError(offset: 4, reason: "control character in a string"))
        #expect(failure(#"{"a":1,"b":2,"a":3}"#)?.description == #"duplicate member "a" at byte 13"#)
    }

    /// Security: two readers of one document must never see different values; which of two equal
    /// names wins differs between parsers, so a name twice is an error everywhere.
    @Test func refusesDuplicateNamesAtEveryDepthAndSize() {
        #expect(failure(#"{"fmspc":"00","fmspc":"01"}"#) != nil)
        #expect(failure(#"[{"x":{"a":null,"a":null}}]"#) != nil)
        // Past 16 members the parser switches from a scan to a set: both must catch it.
        let many = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(throws: Never.self) { try parse("{\(many)}") }
        #expect(failure("{\(many),\"k3\":0}")?.reason == #"duplicate member "k3""#)
        #expect(failure("{\(many),\"k39\":0}") != nil)
        #expect(failure(#"{"a":1,"b":2,"a":3}"#) != nil)
        // Equal names are equal strings: an escape does not make a second name.
        #expect(failure(#"{"a":1,"\u0061":2}"#) != nil)
        #expect(throws: JSONError.self) { try JSONParser.memberSpans(Array(#"{"tcbInfo":{},"tcbInfo":{}}"#.utf8)) }
    }

    @Test func boundsNesting() {
        let depth = JSONValue.maximumDepth
        #expect(depth == 64)
        #expect(throws: Never.self) { try parse(String(repeating: "[", count: depth) + String(repeating: "]", count: depth)) }
        #expect(throws: Never.self) { try parse(String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)) }
        #expect(failure(String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1))?.reason
            == "nesting deeper than 64")
        #expect(failure(String(repeating: "[", count: 100_000)) != nil)
        #expect(failure(String(repeating: "{\"a\":", count: 100_000)) != nil)
    }

    @Test func numbersKeepTheirLiteralText() throws {
        let value = try parse("[18446744073709551615, -0, 1.50, 1E+2, 0.1, 9223372036854775807]")
        #expect(value == .array(["18446744073709551615", "-0", "1.50", "1E+2", "0.1", "9223372036854775807"].map(JSONValue.number)))
        let numbers = try #require(value.arrayValue)
        #expect(numbers[0].integer(as: UInt64.self) == UInt64.max)
        #expect(numbers[0].integer(as: Int64.self) == nil, "out of range is nil, not a trap")
        #expect(numbers[2].integer(as: Int.self) == nil, "a fraction is not an integer")
        #expect(numbers[3].doubleValue == 100)
        #expect(numbers[5].integer(as: Int64.self) == Int64.max)
        #expect(JSONValue.string("1").doubleValue == nil)
        #expect(try parse("1e308").doubleValue == 1e308)
    }

    @Test func keepsMemberOrder() throws {
        let value = try parse(#"{"z":1,"a":2,"m":3}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value["a"] == .number("2") && value["missing"] == nil && JSONValue.null["a"] == nil)
    }

    @Test func memberSpansAreTheExactText() throws {
        let text = #"{ "tcbInfo" : {"b": [1, 2], "a":"x\"}"} , "signature":"ab", "n": -1.0e2 }"#
        let bytes = Array(text.utf8)
        let spans = try JSONParser.memberSpans(bytes)
        #expect(Set(spans.keys) == ["tcbInfo", "signature", "n"])
        func span(_ name: String) -> String? { spans[name].map { String(decoding: bytes[$0], as: UTF8.self) } }
        #expect(span("tcbInfo") == #"{"b": [1, 2], "a":"x\"}"}"#)
        #expect(span("signature") == #""ab""#)
        #expect(span("n") == "-1.0e2")
        // The spans are of valid JSON only: the rest of the document is checked too.
        #expect(throws: JSONError.self) { try JSONParser.memberSpans(Array(#"{"a":1} x"#.utf8)) }
        #expect(throws: JSONError.self) { try JSONParser.memberSpans(Array("[1]".utf8)) }
        #expect(throws: JSONError.self) { try JSONParser.memberSpans(Array(#"{"a":[}"#.utf8)) }
    }

    @Test func objectsAreEqualInAnyOrderAndSettingReplaces() {
        let a: JSONValue = .object([("x", .number("1")), ("y", .null)])
        #expect(a == .object([("y", .null), ("x", .number("1"))]))
        #expect(a != .object([("x", .number("1"))]))
        #expect(a.setting("x", .bool(true)).objectValue?.keys == ["x", "y"])
        #expect(a.setting("z", .null).objectValue?.keys == ["x", "y", "z"])
        var members = JSONObject([("k", .null), ("k", .bool(true))])
        #expect(members.count == 1 && members["k"] == .bool(true))
        members["k"] = nil
        #expect(members.isEmpty)
    }
}
