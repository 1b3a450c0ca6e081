import Foundation
import SwiftASN1
import Testing
@testable import CofferVerifier

/// Coffer's PEM decoder gives the same DER as swift-asn1's for every certificate of the Intel
/// vectors, and refuses what is not base64.
@Suite struct PEMBase64Tests {
    @Test(arguments: ["sgx-dcap", "tdx-dcap"])
    func sameDERAsSwiftASN1(vector: String) throws {
        let object = try JSONSerialization.jsonObject(with: try DCAPVectors.collateralJSON(vector)) as? [String: Any] ?? [:]
        var blocks = 0
        for key in ["pck_crl_issuer_chain", "tcb_info_issuer_chain", "qe_identity_issuer_chain"] {
            for block in CertificateChain.pemBlocks(object[key] as? String ?? "") {
                let expected = Array(try PEMDocument(pemString: String(block)).derBytes)
                #expect(PEMBase64.der(ofBlock: block) == expected)
                blocks += 1
            }
        }
        #expect(blocks >= 6)
    }

    @Test func refusesWhatIsNotBase64() {
        let cases = [
            "-----BEGIN CERTIFICATE-----\nMIIC*jCC\n-----END CERTIFICATE-----",   // outside the alphabet
            "-----BEGIN CERTIFICATE-----\nMIICjCC\n-----END CERTIFICATE-----",    // 7 characters
            "-----BEGIN CERTIFICATE-----\nMI==MIIC\n-----END CERTIFICATE-----",   // text after padding
            "-----BEGIN CERTIFICATE-----\nM===\n-----END CERTIFICATE-----",       // three padding characters
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",             // empty
        ]
        for text in cases { #expect(PEMBase64.der(ofBlock: Substring(text)) == nil, "\(text)") }
        #expect(PEMBase64.der(ofBlock: "-----BEGIN CERTIFICATE-----\nTWFu\nTWE=\n-----END CERTIFICATE-----") == Array("ManMa".utf8))
    }
}
