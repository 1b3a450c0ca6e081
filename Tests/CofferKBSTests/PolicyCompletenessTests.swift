@testable import CofferKBS
import CofferVerifier
import Foundation
import Testing

/// Decision 0019: a policy names whom it admits, or says "any" visibly; silence is refused when
/// set and denied when evaluated.
@Suite struct PolicyCompletenessTests {
    static let image = String(repeating: "ab", count: 32)
    let tdx = Claims(tee: .tdx, hardwareBacked: true, tcbStatus: .upToDate, advisoryIDs: [],
                     measurements: ["mr_td": "aa", "mr_config_id": PolicyCompletenessTests.image + String(repeating: "0", count: 32)],
                     reportData: "", details: ["debug": "false"])

    func decode<T: Decodable>(_ json: String) throws -> T { try JSONDecoder().decode(T.self, from: Data(json.utf8)) }

    /// `{"tdx":{}}` with `["*"]`: every TDX VM anywhere used to get the secrets.
    @Test func anEntryAndARuleNamingNoWorkloadAreDeniedWithANamedReason() throws {
        let attestation: AttestationPolicy = try decode(#"{"tees":{"tdx":{}}}"#)
        let resource: ResourcePolicy = try decode(#"{"rules":[{"resources":["*"]}]}"#)
        let denial = try #require(attestation.evaluate(tdx, devMode: false))
        #expect(denial.claim == "reference_values" && denial.reason.contains("tees.tdx names no reference_values"))
        let refused = try #require(resource.evaluate(path: "default/key/disk", claims: tdx))
        #expect(refused.claim == "workload" && refused.reason.contains("rules[0] names no image_ids or measurements"))
        // A rule naming only TEEs names no workload either.
        let teesOnly: ResourcePolicy = try decode(#"{"rules":[{"resources":["*"],"tees":["tdx"]}]}"#)
        #expect(teesOnly.evaluate(path: "a/b/c", claims: tdx)?.claim == "workload")
        // And setting them is refused, naming the entry.
        #expect(attestation.invalidEntry()?.hasPrefix("tees.tdx names no reference_values") == true)
        #expect(resource.invalidEntry()?.hasPrefix("rules[0] names no image_ids or measurements") == true)
        #expect(teesOnly.invalidEntry()?.hasPrefix("rules[0]") == true)
    }

    @Test func theExplicitFlagsAdmitAndAreCalledOut() throws {
        let attestation: AttestationPolicy = try decode(#"{"tees":{"tdx":{"accept_any_measurement":true}}}"#)
        let resource: ResourcePolicy = try decode(#"{"rules":[{"resources":["*"],"tees":["tdx"],"any_workload":true}]}"#)
        #expect(attestation.invalidEntry() == nil && resource.invalidEntry() == nil)
        #expect(attestation.evaluate(tdx, devMode: false) == nil)
        #expect(resource.evaluate(path: "default/key/disk", claims: tdx) == nil)
        #expect(attestation.explicitAnyWarnings() == ["attestation policy tees.tdx sets accept_any_measurement: any genuine tdx TEE passes, whatever it runs"])
        #expect(resource.explicitAnyWarnings(tee: "tdx").first?.hasPrefix("resource policy rules[0] sets any_workload") == true)
        #expect(resource.explicitAnyWarnings(tee: "snp").isEmpty && attestation.explicitAnyWarnings(tee: "snp").isEmpty)
    }

    @Test func namedValuesAdmitWithoutWarningsAndMistakesAreNamed() throws {
        let attestation: AttestationPolicy = try decode(#"{"tees":{"tdx":{"reference_values":{"mr_td":["AA"]}}}}"#)
        let resource: ResourcePolicy = try decode(#"{"rules":[{"resources":["*"],"image_ids":["\#(Self.image)"]}]}"#)
        #expect(attestation.invalidEntry() == nil && resource.invalidEntry() == nil)
        #expect(attestation.evaluate(tdx, devMode: false) == nil && resource.evaluate(path: "x/y/z", claims: tdx) == nil)
        #expect(attestation.explicitAnyWarnings().isEmpty && resource.explicitAnyWarnings().isEmpty)
        let empty: AttestationPolicy = try decode(#"{"tees":{"tdx":{"reference_values":{"mr_td":[]}}}}"#)
        #expect(empty.invalidEntry() == "tees.tdx.reference_values.mr_td is empty: it would match nothing; list the accepted values")
        let both: ResourcePolicy = try decode(#"{"rules":[{"resources":["*"],"any_workload":true,"measurements":{"mr_td":["aa"]}}]}"#)
        #expect(both.invalidEntry()?.contains("choose one") == true)
    }

    /// Fail closed: only an explicit `debug: "false"` passes a hardware TEE's debug check.
    @Test func anAbsentDebugClaimIsRefused() throws {
        let policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": ["aa"]])])
        var claims = tdx
        claims.details = [:]
        let denial = try #require(policy.evaluate(claims, devMode: false))
        #expect(denial.claim == "debug" && denial.actual == "absent")
        claims.details["debug"] = "yes"
        #expect(policy.evaluate(claims, devMode: false)?.claim == "debug")
        var lenient = policy
        lenient.tees["tdx"]?.allowDebug = true
        claims.details = [:]
        #expect(lenient.evaluate(claims, devMode: false) == nil)
    }

    /// An absent measurement named by the policy is a denial naming it.
    @Test func anAbsentMeasurementIsADenialNamingIt() throws {
        let policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["rtmr3": ["00"]])])
        let denial = try #require(policy.evaluate(tdx, devMode: false))
        #expect(denial.claim == "rtmr3" && denial.actual == "absent")
        let rule = ResourcePolicy(rules: [ResourceRule(resources: ["*"], measurements: ["rtmr3": ["00"]])])
        let refused = try #require(rule.evaluate(path: "a/b/c", claims: tdx))
        #expect(refused.claim == "rtmr3" && refused.actual == "absent")
    }
}
