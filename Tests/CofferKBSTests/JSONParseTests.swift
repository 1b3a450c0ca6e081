@testable import CofferKBS
import Foundation
import Testing

/// `JSONValue.parse` reads every RCAR body: it must agree with Foundation's JSONSerialization
/// on valid JSON and refuse, without trapping, what is not.
@Suite struct JSONParseTests {
    @Test func agreesWithFoundationOnValidDocuments() throws {
        let documents = [
            #"{"version":"0.4.0","tee":"sample","extra-params":{"supported-hash-algorithms":["sha256","sha384"]}}"#,
            #" [1, -2.5e3, 0, 0.125, true, false, null, "a\"b\\c\/d\n\t\u00e9\ud83d\ude00"] "#,
            #"{"nested":{"a":[{"b":[]},{}],"c":""},"n":-0.0,"big":1e300}"#,
        ]
        for text in documents {
            let ours = try JSONValue.parse(Array(text.utf8))
            let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            #expect(ours == foundation, "\(text)")
        }
        #expect(try JSONValue.parse(Array(#""\ud83d\ude00""#.utf8)) == .string("😀"))
        #expect(try JSONValue.parse(Array("{\"k\":\"é\"}".utf8))["k"] == .string("é"))
    }

    @Test func refusesMalformedInputWithItsOffset() {
        let bad = ["", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "01", "1.", "-", "1e", "tru", "nul", "\"abc", "\"\\x\"",
                   "\"\\ud83d\"", "\"\\u12\"", "{\"a\":1} x", "[\"\u{01}\"]", "1e999", "{a:1}", "\"\\"]
        for text in bad {
            #expect(throws: JSONValue.ParseError.self, "\(text)") { try JSONValue.parse(Array(text.utf8)) }
        }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let failure = #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(deep.utf8)) }
        #expect(failure?.message.contains("nesting") == true)
        let allowed = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        #expect(throws: Never.self) { try JSONValue.parse(Array(allowed.utf8)) }
    }
}
