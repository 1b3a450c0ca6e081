import CofferJSON
import Foundation
import Testing
@testable import CofferVerifier

/// The collateral bundles of the real vectors read the same through CofferJSON as through
/// Foundation (the parser's own cases are in CofferJSONTests).
@Suite struct CollateralJSONTests {
    @Test(arguments: ["sgx-dcap", "tdx-dcap"])
    func bundleStringsMatchFoundation(vector: String) throws {
        let json = try DCAPVectors.collateralJSON(vector)
        let expected = try JSONSerialization.jsonObject(with: json) as? [String: String] ?? [:]
        guard case .object(let members)? = try? JSONValue.parse(json) else {
            Issue.record("the bundle must parse")
            return
        }
        #expect(members.count == expected.count)
        for (key, value) in expected { #expect(members[key] == .string(value), "\(key)") }
    }

    @Test func aRepeatedMemberMakesCollateralMalformed() {
        #expect(throws: VerificationFailure.self) {
            try CollateralObject(parsing: Array(#"{"fmspc":"00","fmspc":"01"}"#.utf8), path: "tcb_info")
        }
    }
}
