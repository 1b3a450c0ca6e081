import Foundation
import Testing
@testable import CofferVerifier

/// Remembered collateral signatures (`CollateralSignatureMemo`) never let altered collateral
/// through: each case first verifies the genuine bundle (so its signatures are remembered), then
/// alters one signed input and expects the failure an unremembered check gives.
@Suite struct DCAPSignatureMemoTests {
    func flipHexDigit(_ text: String, at index: Int) -> String {
        var characters = Array(text)
        characters[index] = characters[index] == "0" ? "1" : "0"
        return String(characters)
    }

    @Test(arguments: ["sgx-dcap", "tdx-dcap"])
    func alteredCollateralFailsAfterTheGenuineVerified(vector: String) throws {
        let quote = try DCAPVectors.quote(vector)
        let genuine = try DCAPVectors.collateral(vector)
        for _ in 0..<2 {
            guard case .success = DCAPVectors.verify(quote, genuine) else {
                Issue.record("the genuine vector must verify")
                return
            }
        }
        let cases: [(key: String, edit: (String) -> String, check: VerificationFailure.Check)] = [
            ("tcb_info_signature", { self.flipHexDigit($0, at: 5) }, .collateralSignature),
            ("qe_identity_signature", { self.flipHexDigit($0, at: 100) }, .collateralSignature),
            ("tcb_info", { $0.replacingOccurrences(of: "\"tcbDate\":\"2024-03-13", with: "\"tcbDate\":\"2024-03-12") }, .collateralSignature),
            ("root_ca_crl", { self.flipHexDigit($0, at: $0.count - 4) }, .revocation),
            ("pck_crl", { self.flipHexDigit($0, at: $0.count - 4) }, .revocation),
        ]
        for item in cases {
            let altered = try DCAPVectors.collateral(vector, editing: item.key, item.edit)
            let failure = DCAPVectors.failure(DCAPVectors.verify(quote, altered))
            #expect(failure?.check == item.check, "\(item.key): \(String(describing: failure))")
        }
        // And a remembered collateral still gets its windows checked: a year later it is expired.
        let failure = DCAPVectors.failure(DCAPVectors.verify(quote, genuine, at: DCAPVectors.validTime.addingTimeInterval(365 * 86_400)))
        #expect(failure?.check == .expired, "\(String(describing: failure))")
        guard case .success = DCAPVectors.verify(quote, genuine) else {
            Issue.record("the genuine vector must still verify")
            return
        }
    }
}
