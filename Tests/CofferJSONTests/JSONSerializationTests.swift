import Testing
@testable import CofferJSON

@Suite struct JSONSerializationTests {
    @Test func compactTextKeepsOrderAndNumbersAndRoundTrips() throws {
        let text = #"{"b":1,"a":[true,false,null,-0.5e3,18446744073709551615],"s":"x\"\\\n\u00e9\ud83d\ude00\u0001\/"}"#
        let value = try JSONValue.parse(text)
        #expect(value.serialized == #"{"b":1,"a":[true,false,null,-0.5e3,18446744073709551615],"s":"x\"\\\n\#u{e9}\#u{1F600}\u0001/"}"#)
        #expect(try JSONValue.parse(value.serialized) == value)
        #expect(try JSONValue.parse(value.compactBytes) == value)
        #expect(try JSONValue.parse(value.pretty) == value)
    }

    @Test func prettyIndentsByTwo() {
        let value: JSONValue = .object([("id", .string("c")), ("pids", .array([.integer(1)])), ("e", .object([]))])
        #expect(value.pretty == "{\n  \"id\": \"c\",\n  \"pids\": [\n    1\n  ],\n  \"e\": {}\n}")
    }

    @Test func everyControlCharacterRoundTrips() throws {
        let all = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init) + ["\"", "\\", "/", "é"]))
        let value = JSONValue.string(all)
        #expect(try JSONValue.parse(value.serialized) == value)
        #expect(try JSONValue.parse(CanonicalJSON.serialize(value)) == value)
    }

    // The canonical form the key broker hashes (report-data binding, tokens): pinned outputs.
    @Test func canonicalSortsMembersAndEscapesMinimally() {
        let value: JSONValue = .object([
            "tee-pubkey": .object(["kty": .string("EC"), "alg": .string("ECDH-ES+A256KW"), "crv": .string("P-256")]),
            "nonce": .string("a/b\"c\n"),
            "additional-evidence": .string(""),
            "n": .number(3), "t": .bool(true), "z": .null, "arr": .array([.number(1.5), .string("é")]),
        ])
        let text = String(decoding: CanonicalJSON.serialize(value), as: UTF8.self)
        #expect(text == #"{"additional-evidence":"","arr":[1.5,"é"],"n":3,"nonce":"a/b\"c\n","t":true,"tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC"},"z":null}"#)
    }

    @Test func canonicalControlCharactersUseLowercaseUnicodeEscapes() {
        let text = String(decoding: CanonicalJSON.serialize(.string("\u{01}\u{1f}\t")), as: UTF8.self)
        #expect(text == #""\u0001\u001f\t""#)
    }

    /// Numbers in the canonical form are what the broker's doubles always printed: parsed text
    /// and constructed doubles give the same bytes.
    @Test func canonicalNumbersAreNormalised() throws {
        let parsed = try JSONValue.parse("[1.0, 1e2, -0, 1.5, 1700000000, 1e15, 0.1, 123456789012345678]")
        #expect(String(decoding: CanonicalJSON.serialize(parsed), as: UTF8.self)
            == "[1,100,0,1.5,1700000000,1000000000000000.0,0.1,1.2345678901234568e+17]")
        #expect(JSONValue.number(1_700_000_000.0) == .number("1700000000"))
        #expect(JSONValue.number(Double.nan) == .null)
        // UTF-16 order, not scalar order: U+1F600 (a surrogate pair, D83D DE00) sorts before U+E000.
        let keys: JSONValue = .object([("\u{1F600}", .null), ("\u{E000}", .null), ("a", .null)])
        #expect(String(decoding: CanonicalJSON.serialize(keys), as: UTF8.self) == "{\"a\":null,\"\u{1F600}\":null,\"\u{E000}\":null}")
    }
}
