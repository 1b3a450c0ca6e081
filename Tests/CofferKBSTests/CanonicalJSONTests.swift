@testable import CofferKBS
import Foundation
import Testing

@Suite struct CanonicalJSONTests {
    @Test func sortsMembersAndEscapesMinimally() {
        let value: JSONValue = .object([
            "tee-pubkey": .object(["kty": .string("EC"), "alg": .string("ECDH-ES+A256KW"), "crv": .string("P-256")]),
            "nonce": .string("a/b\"c\n"),
            "additional-evidence": .string(""),
            "n": .number(3), "t": .bool(true), "z": .null, "arr": .array([.number(1.5), .string("é")]),
        ])
        let text = String(decoding: CanonicalJSON.serialize(value), as: UTF8.self)
        #expect(text == #"{"additional-evidence":"","arr":[1.5,"é"],"n":3,"nonce":"a/b\"c\n","t":true,"tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC"},"z":null}"#)
    }

    @Test func controlCharactersUseLowercaseUnicodeEscapes() {
        let text = String(decoding: CanonicalJSON.serialize(.string("\u{01}\u{1f}\t")), as: UTF8.self)
        #expect(text == #""\u0001\u001f\t""#)
    }
}

@Suite struct Base64URLTests {
    @Test func encodesWithoutPaddingInTheURLAlphabetAndDecodesBoth() throws {
        let bytes: [UInt8] = [0xfb, 0xff, 0xfe, 0x01]
        #expect(Base64URL.encode(bytes) == "-__-AQ")
        // Every length remainder, against Foundation's standard encoder translated by hand.
        for count in 0..<40 {
            let data = Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
            let standard = data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(data) == standard)
        }
        #expect(Base64URL.decode("-__-AQ") == Data(bytes))
        #expect(Base64URL.decode("+//+AQ==") == Data(bytes))
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("@@@") == nil)
        #expect(Base64URL.decode("") == Data())
    }
}
