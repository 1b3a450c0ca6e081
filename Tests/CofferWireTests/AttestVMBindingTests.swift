import CofferCore
import CofferWire
import Testing

@Suite struct AttestVMBindingTests {
    /// Expected from python3: hashlib.sha512(b"coffer attest-vm v1\x00" + bytes.fromhex("c0ffee")).
    @Test func theReportDataIsTheLabelledSHA512OfTheNonce() {
        #expect(
            Hex.encode(AttestVMBinding.reportData(nonce: [0xC0, 0xFF, 0xEE]))
                == "9b050c2d91dee02198e11141231bb9c7705cb4472a547d641590a3a2b2ba690a91cc6fc45b5318b5bb0b253219ebe1576f307bef727b5e0c6f564b2a6e97290a")
    }

    /// A nonce shaped like a key broker binding (a digest zero-padded to 64 bytes) does not come
    /// back as the report data, nor does anything ending in the broker's zero tail.
    @Test func aBrokerBindingGivenAsTheNonceIsNotTheReportData() {
        for digestSize in [32, 48, 64] {
            let binding = Array(SHA256Digest.hash([UInt8(digestSize)]) + SHA256Digest.hash([1]))[0..<digestSize]
                + [UInt8](repeating: 0, count: 64 - digestSize)
            let reportData = AttestVMBinding.reportData(nonce: Array(binding))
            #expect(reportData.count == 64)
            #expect(reportData != Array(binding))
            #expect(!reportData.suffix(16).allSatisfy { $0 == 0 })
        }
    }
}
