import CofferCore
import CofferEvidence
@testable import CofferKBS
import CofferTestSupport
import CofferVerifier
import Foundation
import Testing
import CofferJSON

/// Decision 0020 at the broker: the SNP TCB status rests on the policy's `min_tcb`, and a report
/// from VMPL > 0 is refused unless the policy says `max_vmpl`.
@Suite struct SNPPolicyTests {
    /// The VLEK vector (its guest is not debuggable) as `primary_evidence`.
    static func primary() throws -> JSONValue {
        let report = try Vectors.data("snp/milan-vlek-report.bin")
        let collateral: JSONValue = .object([
            "vlek": .string(try Vectors.data("snp/milan-vlek.der").base64EncodedString()),
            "cert_chain": .string(try Vectors.text("snp/milan-ask-ark-asvk.pem")),
        ])
        return .object(["report": .string(report.base64EncodedString()), "collateral": collateral])
    }
    static func reported() throws -> SNPTCBVersion { try SNPReport(parsing: Vectors.bytes("snp/milan-vlek-report.bin")).reportedTCB }
    let during = Date(timeIntervalSince1970: 1_750_600_000)

    /// The VLEK vector's guest (an AWS instance) asked for its report from VMPL 1, so every entry
    /// here that should pass raises `max_vmpl` to 1; `theRealVMPL1ReportIsRefusedByDefault` shows why.
    func appraise(_ entry: TEEAttestationPolicy, maxVMPL: Int? = 1) throws -> Result<Claims, KBSFailure> {
        var entry = entry
        entry.maxVMPL = maxVMPL
        return KeyBroker.appraise(tee: .snp, primaryEvidence: try Self.primary(), policy: AttestationPolicy(tees: ["snp": entry]),
                           configuration: KBSConfiguration(), at: during)
    }

    static func minimum(_ tcb: SNPTCBVersion) -> SNPMinimumTCB {
        SNPMinimumTCB(bootloader: tcb.bootloader, tee: tcb.tee, snp: tcb.snp, microcode: tcb.microcode)
    }

    @Test func withoutAMinimumTheStatusIsNotEvaluatedAndTheDefaultPolicyRefusesIt() throws {
        guard case .failure(let failure) = try appraise(TEEAttestationPolicy(acceptAnyMeasurement: true)) else {
            Issue.record("SNP evidence passed with no minimum TCB in the policy"); return
        }
        #expect(failure.denial?.claim == "tcb_status" && failure.denial?.actual == "NotEvaluated" && failure.denial?.expected == "one of UpToDate")
    }

    @Test func aMinimumEqualToOrBelowTheReportedTCBPassesAndOneAboveIsOutOfDate() throws {
        let reported = try Self.reported()
        let equal = try appraise(TEEAttestationPolicy(acceptAnyMeasurement: true, minTCB: Self.minimum(reported))).get()
        #expect(equal.tcbStatus == .upToDate)
        let zero = try appraise(TEEAttestationPolicy(acceptAnyMeasurement: true, minTCB: SNPMinimumTCB(bootloader: 0, tee: 0, snp: 0, microcode: 0))).get()
        #expect(zero.tcbStatus == .upToDate)
        var above = Self.minimum(reported)
        above.snp += 1
        guard case .failure(let failure) = try appraise(TEEAttestationPolicy(acceptAnyMeasurement: true, minTCB: above)) else {
            Issue.record("a TCB below the policy's minimum passed"); return
        }
        #expect(failure.denial?.claim == "tcb_status" && failure.denial?.actual == "OutOfDate")
        // An operator who accepts OutOfDate says so by name.
        let lenient = try appraise(TEEAttestationPolicy(tcbStatuses: [.upToDate, .outOfDate], acceptAnyMeasurement: true, minTCB: above)).get()
        #expect(lenient.tcbStatus == .outOfDate)
    }

    @Test func theRealVMPL1ReportIsRefusedByDefault() throws {
        let minimum = Self.minimum(try Self.reported())
        guard case .failure(let failure) = try appraise(TEEAttestationPolicy(acceptAnyMeasurement: true, minTCB: minimum), maxVMPL: nil) else {
            Issue.record("a report from VMPL 1 passed a policy without max_vmpl"); return
        }
        #expect(failure.denial?.claim == "vmpl" && failure.denial?.actual == "1" && failure.denial?.expected == "at most 0")
        let claims = try appraise(TEEAttestationPolicy(acceptAnyMeasurement: true, minTCB: minimum), maxVMPL: 1).get()
        #expect(claims.details["vmpl"] == "1")
    }

    static let snp = Claims(tee: .snp, hardwareBacked: true, tcbStatus: .upToDate, advisoryIDs: [],
                            measurements: ["measurement": "aa"], reportData: "", details: ["debug": "false", "vmpl": "0"])

    @Test func aReportFromVMPLAboveZeroIsRefusedUnlessThePolicyRaisesMaxVMPL() throws {
        let policy = AttestationPolicy(tees: ["snp": TEEAttestationPolicy(referenceValues: ["measurement": ["aa"]])])
        #expect(policy.evaluate(Self.snp, devMode: false) == nil)
        var claims = Self.snp
        claims.details["vmpl"] = "1"
        let denial = try #require(policy.evaluate(claims, devMode: false))
        #expect(denial.claim == "vmpl" && denial.actual == "1" && denial.expected == "at most 0")
        var raised = policy
        raised.tees["snp"]?.maxVMPL = 1
        #expect(raised.evaluate(claims, devMode: false) == nil)
        claims.details["vmpl"] = "2"
        #expect(raised.evaluate(claims, devMode: false)?.claim == "vmpl")
    }

    @Test func anAbsentOrUnreadableVMPLIsRefused() throws {
        let policy = AttestationPolicy(tees: ["snp": TEEAttestationPolicy(referenceValues: ["measurement": ["aa"]], maxVMPL: 3)])
        var claims = Self.snp
        claims.details["vmpl"] = nil
        #expect(policy.evaluate(claims, devMode: false)?.claim == "vmpl")
        #expect(policy.evaluate(claims, devMode: false)?.actual == "absent")
        claims.details["vmpl"] = "one"
        #expect(policy.evaluate(claims, devMode: false)?.claim == "vmpl")
    }

    @Test func policyFieldsDecodeAndAPartialMinimumIsRefused() throws {
        let json = #"{"tees":{"snp":{"accept_any_measurement":true,"min_tcb":{"bootloader":2,"tee":0,"snp":5,"microcode":68},"max_vmpl":1}}}"#
        let policy = try JSONDecoder().decode(AttestationPolicy.self, from: Data(json.utf8))
        #expect(policy.tees["snp"]?.minTCB == SNPMinimumTCB(bootloader: 2, tee: 0, snp: 5, microcode: 68))
        #expect(policy.tees["snp"]?.maxVMPL == 1)
        #expect(policy.snpVerificationOptions.minimumTCB == SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 68))
        let again = try JSONDecoder().decode(AttestationPolicy.self, from: JSONEncoder().encode(policy))
        #expect(again == policy)
        let partial = #"{"tees":{"snp":{"accept_any_measurement":true,"min_tcb":{"bootloader":2,"tee":0,"snp":5}}}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AttestationPolicy.self, from: Data(partial.utf8)) }
        let tooLarge = #"{"tees":{"snp":{"accept_any_measurement":true,"min_tcb":{"bootloader":2,"tee":0,"snp":5,"microcode":300}}}}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(AttestationPolicy.self, from: Data(tooLarge.utf8)) }
        let none = try JSONDecoder().decode(AttestationPolicy.self, from: Data(#"{"tees":{"snp":{"accept_any_measurement":true}}}"#.utf8))
        #expect(none.snpVerificationOptions.minimumTCB == nil && none.tees["snp"]?.maxVMPL == nil)
    }

    @Test func snpFieldsOnlyOnTheSNPEntryAndAVMPLFromZeroToThree() {
        let minimum = SNPMinimumTCB(bootloader: 2, tee: 0, snp: 5, microcode: 68)
        #expect(AttestationPolicy(tees: ["snp": TEEAttestationPolicy(acceptAnyMeasurement: true, minTCB: minimum, maxVMPL: 3)]).invalidEntry() == nil)
        #expect(AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(acceptAnyMeasurement: true, minTCB: minimum)]).invalidEntry()?.contains("tees.tdx sets min_tcb") == true)
        #expect(AttestationPolicy(tees: ["sgx": TEEAttestationPolicy(acceptAnyMeasurement: true, maxVMPL: 0)]).invalidEntry()?.contains("tees.sgx sets max_vmpl") == true)
        #expect(AttestationPolicy(tees: ["snp": TEEAttestationPolicy(acceptAnyMeasurement: true, maxVMPL: 4)]).invalidEntry()?.contains("max_vmpl 4") == true)
        #expect(AttestationPolicy(tees: ["snp": TEEAttestationPolicy(acceptAnyMeasurement: true, maxVMPL: -1)]).invalidEntry() != nil)
    }
}
