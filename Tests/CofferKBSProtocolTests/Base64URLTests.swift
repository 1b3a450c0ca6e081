import CofferKBSProtocol
import Foundation
import Testing

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
        #expect(Base64URL.decode("-__-AQ") == bytes)
        #expect(Base64URL.decode("+//+AQ==") == bytes)
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("@@@") == nil)
        // Mixed alphabets and extra trailing padding, as the Foundation-based decoder took them;
        // padding inside the text is refused.
        #expect(Base64URL.decode("-/_+AQ===") == [0xfb, 0xff, 0xfe, 0x01])
        #expect(Base64URL.decode("AQ==AQ") == nil)
        #expect(Base64URL.decode("A Q") == nil)
        // Every length remainder decodes back to what Foundation decodes.
        for count in 0..<40 {
            let data = Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 53 &+ 7) })
            #expect(Base64URL.decode(Base64URL.encode(data)) == Array(data))
            #expect(Base64URL.decode(data.base64EncodedString()) == Array(data))
        }
        #expect(Base64URL.decode("") == [])
    }
}
