import CofferCore
import Foundation
import Testing
@testable import CofferVerifier
import CofferJSON

/// TCB level matching and status convergence on the real TCB Info and QE Identity of the vectors,
/// with platform values moved below the levels Intel lists.
@Suite struct DCAPTCBLevelTests {
    func sgxInfo() throws -> TCBInfo { try DCAPVectors.collateral("sgx-dcap").tcbInfo }

    func pck(_ components: [UInt8], pceSVN: UInt16) -> PCKExtensions {
        PCKExtensions(ppid: [], components: components, pceSVN: pceSVN, cpuSVN: components, pceID: [0, 0], fmspc: [])
    }

    @Test func sgxLevelsMatchFirstLevelNotAbovePlatform() throws {
        let info = try sgxInfo()
        // The vector's platform: components 0b 0b 1a 18 ff ff 04 …, PCESVN 13.
        let platform: [UInt8] = [11, 11, 26, 24, 255, 255, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(try TCBEvaluation.platform(info, pck: pck(platform, pceSVN: 13), teeTCBSVN: nil)
            == TCBVerdict(status: .configurationAndSWHardeningNeeded, advisoryIDs: ["INTEL-SA-00289", "INTEL-SA-00615"]))
        // Component 7 at 12 reaches the SWHardeningNeeded level.
        var higher = platform
        higher[6] = 12
        #expect(try TCBEvaluation.platform(info, pck: pck(higher, pceSVN: 13), teeTCBSVN: nil).status == .swHardeningNeeded)
        // Components 1-2 at 10: the OutOfDate levels.
        var lower = platform
        lower[0] = 10
        lower[1] = 10
        #expect(try TCBEvaluation.platform(info, pck: pck(lower, pceSVN: 13), teeTCBSVN: nil).status == .outOfDateConfigurationNeeded)
        // Nothing at all: below every level.
        #expect(throws: VerificationFailure.self) {
            try TCBEvaluation.platform(info, pck: pck([UInt8](repeating: 0, count: 16), pceSVN: 0), teeTCBSVN: nil)
        }
    }

    @Test func tdxComponentsTakePartInMatching() throws {
        let info = try DCAPVectors.collateral("tdx-dcap").tcbInfo
        let components: [UInt8] = [2, 2, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]
        let tee: [UInt8] = [6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(try TCBEvaluation.platform(info, pck: pck(components, pceSVN: 11), teeTCBSVN: tee).status == .upToDate)
        #expect(try TCBEvaluation.platform(info, pck: pck(components, pceSVN: 5), teeTCBSVN: tee).status == .outOfDate)
        // TEE_TCB_SVN[2] below every level's tdxtcbcomponents[2] (2): no level.
        var lowTEE = tee
        lowTEE[2] = 1
        #expect(throws: VerificationFailure.self) {
            try TCBEvaluation.platform(info, pck: pck(components, pceSVN: 11), teeTCBSVN: lowTEE)
        }
    }

    @Test func qeLevelsByISVSVN() throws {
        let identity = try DCAPVectors.collateral("sgx-dcap").qeIdentity
        let quote = try DCAPQuote(bytes: try DCAPVectors.quote("sgx-dcap"))
        var report = quote.signatureData.qe.qeReport
        #expect(try TCBEvaluation.qe(identity, report: report).status == .upToDate)
        report.isvSVN = 6
        #expect(try TCBEvaluation.qe(identity, report: report) == TCBVerdict(status: .outOfDate, advisoryIDs: ["INTEL-SA-00615"]))
        report.isvSVN = 0
        #expect(try TCBEvaluation.qe(identity, report: report).status == .revoked)
        report.isvSVN = 8
        report.mrSigner[0] ^= 1
        #expect(throws: VerificationFailure(.qeIdentity, "QE MRSIGNER \(Hex.encode(report.mrSigner)) is not QE's \(Hex.encode(identity.mrSigner))")) {
            try TCBEvaluation.qe(identity, report: report)
        }
        report.mrSigner[0] ^= 1
        report.attributes[0] |= 0x02  // a debug QE
        #expect(throws: VerificationFailure.self) { try TCBEvaluation.qe(identity, report: report) }
    }

    @Test func convergenceFollowsQVL() {
        #expect(TCBEvaluation.converge(platform: .upToDate, with: .upToDate) == .upToDate)
        #expect(TCBEvaluation.converge(platform: .swHardeningNeeded, with: .upToDate) == .swHardeningNeeded)
        #expect(TCBEvaluation.converge(platform: .upToDate, with: .outOfDate) == .outOfDate)
        #expect(TCBEvaluation.converge(platform: .swHardeningNeeded, with: .outOfDate) == .outOfDate)
        #expect(TCBEvaluation.converge(platform: .configurationNeeded, with: .outOfDate) == .outOfDateConfigurationNeeded)
        #expect(TCBEvaluation.converge(platform: .configurationAndSWHardeningNeeded, with: .outOfDate) == .outOfDateConfigurationNeeded)
        #expect(TCBEvaluation.converge(platform: .outOfDateConfigurationNeeded, with: .outOfDate) == .outOfDateConfigurationNeeded)
        #expect(TCBEvaluation.converge(platform: .upToDate, with: .revoked) == .revoked)
        #expect(TCBEvaluation.converge(platform: .revoked, with: .upToDate) == .revoked)
    }

    @Test func timestamps() {
        #expect(IntelTimestamp.parse("2025-06-19T10:56:11Z") == 1_750_330_571)
        #expect(IntelTimestamp.parse("2025-06-19T10:56:11.123Z") == 1_750_330_571)
        #expect(IntelTimestamp.parse("2025-06-19T10:56:11+01:00") == nil)
        #expect(IntelTimestamp.parse("2025-06-19T10:56:11." + String(repeating: "9", count: 40) + "Z") == 1_750_330_571)
        #expect(IntelTimestamp.parse("2025-06-19T10:56:11.Z") == nil)
        #expect(IntelTimestamp.parse("2025-13-19T10:56:11Z") == nil)
        #expect(IntelTimestamp.render(1_775_215_317) == "2026-04-03T11:21:57Z")
    }
}

/// TCB Info v2 (SGX, components as `sgxtcbcompNNsvn` keys) reads to the same levels as v3.
@Suite struct DCAPTCBInfoVersionTests {
    @Test func version2MatchesVersion3() throws {
        let v3Body = try DCAPVectors.collateral("sgx-dcap").tcbInfoBody
        var object = try JSONSerialization.jsonObject(with: Data(v3Body)) as! [String: Any]
        object["version"] = 2
        object["id"] = nil
        object["tcbLevels"] = (object["tcbLevels"] as! [[String: Any]]).map { level in
            var level = level
            var tcb = level["tcb"] as! [String: Any]
            let components = (tcb["sgxtcbcomponents"] as! [[String: Any]]).map { $0["svn"] as! Int }
            tcb["sgxtcbcomponents"] = nil
            for (index, svn) in components.enumerated() {
                tcb[String(format: "sgxtcbcomp%02dsvn", index + 1)] = svn
            }
            level["tcb"] = tcb
            return level
        }
        let v2 = try TCBInfo(body: Array(try JSONSerialization.data(withJSONObject: object)))
        let v3 = try TCBInfo(body: v3Body)
        #expect(v2.version == 2 && v2.id == "SGX")
        #expect(v2.levels.map(\.sgxComponents) == v3.levels.map(\.sgxComponents))
        #expect(v2.levels.map(\.pceSVN) == v3.levels.map(\.pceSVN))
        #expect(v2.levels.map(\.status) == v3.levels.map(\.status))
        #expect(v2.levels.map(\.advisoryIDs) == v3.levels.map(\.advisoryIDs))
        #expect(v2.fmspc == v3.fmspc)
    }

    @Test func unknownVersionAndBadFieldsAreNamed() throws {
        let body = try DCAPVectors.collateral("tdx-dcap").tcbInfoBody
        let text = String(decoding: body, as: UTF8.self)
        func failure(_ edited: String) -> VerificationFailure? {
            do throws(VerificationFailure) {
                _ = try TCBInfo(body: Array(edited.utf8))
                return nil
            } catch {
                return error
            }
        }
        #expect(failure(text.replacingOccurrences(of: "\"version\":3", with: "\"version\":4"))?.message.contains("tcb_info.version") == true)
        #expect(failure(text.replacingOccurrences(of: "\"fmspc\":\"B0C06F000000\"", with: "\"fmspc\":\"B0C0\""))?.message.contains("tcb_info.fmspc") == true)
        #expect(failure(text.replacingOccurrences(of: "\"tcbStatus\":\"UpToDate\"", with: "\"tcbStatus\":\"Fine\""))?.message.contains("tcbStatus") == true)
        #expect(failure(text.replacingOccurrences(of: "\"pcesvn\":11", with: "\"pcesvn\":\"11\""))?.message.contains("tcb_info.tcbLevels[0].tcb.pcesvn") == true)
    }
}
