@testable import CofferKBS
import Testing

/// The broker's choice of binding hash (server-only: the binding itself is CofferKBSProtocolTests').
@Suite struct BindingHashSelectionTests {
    @Test func selectsSHA384WhenOfferedAndRefusesUnknownLists() {
        #expect(BindingHash.select(from: nil) == .sha384)
        #expect(BindingHash.select(from: .object([KBSProtocol.supportedHashAlgorithmsKey: .array([.string("sha256"), .string("sha384")])])) == .sha384)
        #expect(BindingHash.select(from: .object([KBSProtocol.supportedHashAlgorithmsKey: .array([.string("SHA256")])])) == .sha256)
        #expect(BindingHash.select(from: .object([KBSProtocol.supportedHashAlgorithmsKey: .array([.string("md5")])])) == nil)
    }
}
