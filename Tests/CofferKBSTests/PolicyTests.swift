@testable import CofferKBS
import CofferVerifier
import Testing

@Suite struct AttestationPolicyTests {
    let tdx = Claims(tee: .tdx, hardwareBacked: true, tcbStatus: .upToDate, advisoryIDs: [],
                     measurements: ["mr_td": "aa", "rtmr0": "bb"], reportData: "", details: ["debug": "false"])
    let sample = Claims(tee: .sample, hardwareBacked: false, tcbStatus: nil, advisoryIDs: [],
                        measurements: ["measurement": "01", "host_data": "00"], reportData: "")

    @Test func defaultPolicyRefusesEverything() {
        #expect(AttestationPolicy().evaluate(tdx, devMode: false)?.claim == "tee")
        #expect(AttestationPolicy().evaluate(sample, devMode: true)?.claim == "tee")
    }

    @Test func sampleOnlyInDevModeAndTheDenialSaysSample() throws {
        let policy = AttestationPolicy(tees: ["sample": TEEAttestationPolicy()])
        let denial = try #require(policy.evaluate(sample, devMode: false))
        #expect(denial.claim == "tee" && denial.actual == "sample" && denial.reason.contains("sample"))
        #expect(policy.evaluate(sample, devMode: true) == nil)
    }

    @Test func namesTheFailingClaimAndTheExpectedValue() throws {
        var policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": ["AA", "cc"], "rtmr0": ["bb"]])])
        #expect(policy.evaluate(tdx, devMode: false) == nil)
        policy.tees["tdx"]?.referenceValues["rtmr0"] = ["dd"]
        let denial = try #require(policy.evaluate(tdx, devMode: false))
        #expect(denial.claim == "rtmr0" && denial.expected == "dd" && denial.actual == "bb")
        policy.tees["tdx"]?.referenceValues = ["mr_config_id": ["00"]]
        #expect(policy.evaluate(tdx, devMode: false)?.actual == "absent")
    }

    @Test func tcbStatusAdvisoriesAndDebug() throws {
        let policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy()])
        var claims = tdx
        claims.tcbStatus = .swHardeningNeeded
        #expect(policy.evaluate(claims, devMode: false)?.claim == "tcb_status")
        claims = tdx
        claims.advisoryIDs = ["INTEL-SA-00615"]
        let advisory = try #require(policy.evaluate(claims, devMode: false))
        #expect(advisory.claim == "advisory_ids" && advisory.actual == "INTEL-SA-00615")
        var lenient = policy
        lenient.tees["tdx"]?.allowedAdvisoryIDs = ["INTEL-SA-00615"]
        #expect(lenient.evaluate(claims, devMode: false) == nil)
        claims = tdx
        claims.details["debug"] = "true"
        #expect(policy.evaluate(claims, devMode: false)?.claim == "debug")
    }

    @Test func decodesWithStrictDefaults() throws {
        let policy = try JSONDecoder().decode(AttestationPolicy.self, from: Data(#"{"tees":{"tdx":{"reference_values":{"mr_td":["aa"]}}}}"#.utf8))
        #expect(policy.tees["tdx"] == TEEAttestationPolicy(tcbStatuses: [.upToDate], allowedAdvisoryIDs: [], referenceValues: ["mr_td": ["aa"]], allowDebug: false))
    }
}

import Foundation

@Suite struct ResourcePolicyTests {
    let claims = Claims(tee: .sample, hardwareBacked: false, tcbStatus: nil, advisoryIDs: [],
                        measurements: ["measurement": "01", "host_data": "abcd0000"], reportData: "")

    @Test func globs() {
        #expect(Glob.matches("default/*/*", "default/key/disk"))
        #expect(Glob.matches("*", "a/b/c"))
        #expect(Glob.matches("a/*/c", "a/b/c"))
        #expect(!Glob.matches("a/*/c", "a/b/d"))
        #expect(!Glob.matches("a/b", "a/b/c"))
        #expect(Glob.matches("a/b*", "a/b"))
    }

    @Test func nothingIsReadableByDefault() {
        #expect(ResourcePolicy().evaluate(path: "a/b/c", claims: claims)?.claim == "resource")
    }

    @Test func measurementAndImageIdentities() throws {
        let policy = ResourcePolicy(rules: [
            ResourceRule(resources: ["app/key/*"], measurements: ["measurement": ["01"]]),
            ResourceRule(resources: ["img/*"], imageIDs: ["abcd"]),
            ResourceRule(resources: ["other/*"], tees: ["tdx"]),
        ])
        #expect(policy.evaluate(path: "app/key/disk", claims: claims) == nil)
        #expect(policy.evaluate(path: "img/key/x", claims: claims) == nil)
        #expect(policy.evaluate(path: "other/key/x", claims: claims)?.claim == "tee")
        var other = claims
        other.measurements["measurement"] = "02"
        let denial = try #require(policy.evaluate(path: "app/key/disk", claims: other))
        #expect(denial.claim == "measurement" && denial.actual == "02")
        other.measurements["host_data"] = "ffff"
        #expect(policy.evaluate(path: "img/key/x", claims: other)?.claim == "host_data")
    }
}
