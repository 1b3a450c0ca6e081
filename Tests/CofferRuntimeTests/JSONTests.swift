import Testing
@testable import CofferOCI

@Suite struct JSONTests {
    @Test func roundTripKeepsOrderAndNumbers() throws {
        let text = #"{"b":1,"a":[true,false,null,-0.5e3,18446744073709551615],"s":"x\"\\\n\u00e9\ud83d\ude00"}"#
        let value = try JSONParser.parse(text)
        #expect(value.serialized == #"{"b":1,"a":[true,false,null,-0.5e3,18446744073709551615],"s":"x\"\\\n\#u{e9}\#u{1F600}"}"#)
        #expect(try JSONParser.parse(value.pretty) == value)
    }
}
