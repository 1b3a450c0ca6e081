@testable import CofferKBS
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
        #expect(Base64URL.decode("-__-AQ") == Data(bytes))
        #expect(Base64URL.decode("+//+AQ==") == Data(bytes))
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("@@@") == nil)
        #expect(Base64URL.decode("") == Data())
    }
}
