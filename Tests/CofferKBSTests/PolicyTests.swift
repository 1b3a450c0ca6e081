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
        let policy = AttestationPolicy(tees: ["sample": TEEAttestationPolicy(acceptAnyMeasurement: true)])
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
        let policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": ["aa"]])])
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
    static let image = "abcd" + String(repeating: "01", count: 30)
    let claims = Claims(tee: .sample, hardwareBacked: false, tcbStatus: nil, advisoryIDs: [],
                        measurements: ["measurement": "01", "host_data": ResourcePolicyTests.image], reportData: "")

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
            ResourceRule(resources: ["img/*"], imageIDs: [Self.image]),
            ResourceRule(resources: ["other/*"], tees: ["tdx"], anyWorkload: true),
        ])
        #expect(policy.evaluate(path: "app/key/disk", claims: claims) == nil)
        #expect(policy.evaluate(path: "img/key/x", claims: claims) == nil)
        #expect(policy.evaluate(path: "other/key/x", claims: claims)?.claim == "tee")
        var other = claims
        other.measurements["measurement"] = "02"
        let denial = try #require(policy.evaluate(path: "app/key/disk", claims: other))
        #expect(denial.claim == "measurement" && denial.actual == "02")
        other.measurements["host_data"] = "abcd" + String(repeating: "02", count: 30)
        #expect(policy.evaluate(path: "img/key/x", claims: other)?.claim == "host_data")
    }

    /// Image ids compare exactly: the same digest written `sha256:`/upper case matches; one that
    /// shares only a prefix does not, and a short id (built without the admin API's check) matches
    /// nothing at all rather than every image starting with it.
    @Test func imageIDsMatchExactlyNeverByPrefix() throws {
        func admits(_ ids: [String], _ claims: Claims) -> Bool {
            ResourcePolicy(rules: [ResourceRule(resources: ["*"], imageIDs: ids)]).evaluate(path: "a/b/c", claims: claims) == nil
        }
        #expect(admits([Self.image], claims))
        #expect(admits(["sha256:" + Self.image.uppercased()], claims))
        #expect(!admits(["abcd"], claims))
        #expect(!admits([String(Self.image.dropLast())], claims))
        var longer = claims
        longer.measurements["host_data"] = String(Self.image.dropLast()) + "2"
        #expect(!admits([Self.image], longer))
        // TDX: the 32-byte id zero-padded to the 48-byte mr_config_id, and nothing else.
        var tdx = Claims(tee: .tdx, hardwareBacked: true, tcbStatus: .upToDate, advisoryIDs: [],
                         measurements: ["mr_config_id": Self.image + String(repeating: "0", count: 32)], reportData: "")
        #expect(admits([Self.image], tdx))
        tdx.measurements["mr_config_id"] = Self.image + String(repeating: "0", count: 31) + "1"
        #expect(!admits([Self.image], tdx))
    }

    @Test func anythingButAFullImageIDIsNamedAsInvalid() throws {
        #expect(ResourcePolicy(rules: [ResourceRule(resources: ["*"], imageIDs: [Self.image, "sha256:" + Self.image.uppercased()])]).invalidEntry() == nil)
        for bad in ["abcd", "sha256:abcd", String(Self.image.dropLast()), Self.image + "0", "sha512:" + Self.image, String(Self.image.dropLast()) + "g", ""] {
            let policy = ResourcePolicy(rules: [ResourceRule(resources: ["x/*"], anyWorkload: true), ResourceRule(resources: ["*"], imageIDs: [Self.image, bad])])
            let entry = try #require(policy.invalidEntry(), "\(bad) accepted")
            #expect(entry.hasPrefix("rules[1].image_ids: \"\(bad)\""))
        }
    }
}
