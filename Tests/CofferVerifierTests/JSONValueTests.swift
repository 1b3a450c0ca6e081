import Foundation
import Testing
@testable import CofferVerifier

/// The collateral JSON parser reads what Foundation reads from the vectors and refuses what RFC
/// 8259 does not allow, plus duplicate names and runaway nesting.
@Suite struct JSONValueTests {
    func parse(_ text: String) -> JSONValue? { try? JSONValue.parse(Array(text.utf8)) }

    @Test(arguments: ["sgx-dcap", "tdx-dcap"])
    func bundleStringsMatchFoundation(vector: String) throws {
        let json = try DCAPVectors.collateralJSON(vector)
        let expected = try JSONSerialization.jsonObject(with: json) as? [String: String] ?? [:]
        guard case .object(let members)? = try? JSONValue.parse(json) else {
            Issue.record("the bundle must parse")
            return
        }
        #expect(members.count == expected.count)
        for (key, value) in expected { #expect(members[key] == .string(value), "\(key)") }
    }

    @Test func escapesAndNumbers() {
        #expect(parse(#"["a\"\\\/\b\f\n\r\t", "\u00e9\ud83d\ude00", -0, 1.5e-3, true, null]"#)
            == .array([.string("a\"\\/\u{8}\u{c}\n\r\t"), .string("é😀"), .number("-0"), .number("1.5e-3"), .bool(true), .null]))
    }

    @Test func refusesWhatRFC8259Refuses() {
        let cases = [
            "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", ".5", "+1", "NaN", "'a'", "[1] 2",
            "\"\u{1}\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "{\"a\" 1}", "tru", "nul",
        ]
        for text in cases { #expect(parse(text) == nil, "\(text.debugDescription)") }
        #expect((try? JSONValue.parse([0x22, 0xff, 0x22])) == nil, "invalid UTF-8")
    }

    @Test func refusesDuplicateNamesAndDeepNesting() {
        #expect(parse(#"{"fmspc":"00","fmspc":"01"}"#) == nil)
        #expect(parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) != nil)
        #expect(parse(String(repeating: "[", count: 65) + String(repeating: "]", count: 65)) == nil)
        #expect(parse(String(repeating: "[", count: 100_000)) == nil)
    }

    @Test func memberSpansAreTheExactText() throws {
        let text = #"{ "tcbInfo" : {"b": [1, 2], "a":"x"} , "signature":"ab" }"#
        let bytes = Array(text.utf8)
        let spans = try JSONValue.memberSpans(bytes)
        #expect(spans["tcbInfo"].map { String(decoding: bytes[$0], as: UTF8.self) } == #"{"b": [1, 2], "a":"x"}"#)
        #expect(spans["signature"].map { String(decoding: bytes[$0], as: UTF8.self) } == #""ab""#)
    }
}
