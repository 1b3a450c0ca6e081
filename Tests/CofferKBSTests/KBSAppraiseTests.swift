@testable import CofferKBS
import CofferCore
import CofferTestSupport
import Crypto
import Foundation
import Testing
import CofferJSON

/// The policy dry run (`POST /kbs/v0/admin/appraise`) on real SGX and TDX quotes from
/// ../shared/vectors with their collateral, at pinned times, through the real server over real
/// HTTPS: the verification and attestation policy of `attest`, without the nonce binding that
/// captured quotes cannot carry. Times and claims are the vectors' README's.
@Suite(.serialized) struct KBSAppraiseTests {
    static let valid = 1_750_600_000, expired = 1_771_500_000
    static let mrTD = "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"
    static let mrEnclave = "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"

    static func body(tee: String, vector: String, time: Int?) throws -> Data {
        let primary = try VectorPolicyTests.primary(vector)
        var members: [String: JSONValue] = ["tee": .string(tee), "evidence": try #require(primary["quote"]), "collateral": try #require(primary["collateral"])]
        if let time { members["time"] = .number(Double(time)) }
        return Data(CanonicalJSON.serialize(.object(members)))
    }

    static func appraise(_ server: KBSServerProcess, tee: String = "tdx", vector: String = "tdx-dcap", time: Int?) async throws -> (status: Int, result: JSONValue, reply: KBSClient.Reply) {
        let reply = try await server.admin("POST", "/kbs/v0/admin/appraise", try body(tee: tee, vector: vector, time: time))
        return (reply.status, try JSONValue.parse(Array(reply.body)), reply)
    }

    static func setPolicy(_ server: KBSServerProcess, _ policy: AttestationPolicy) async throws {
        #expect(try await server.admin("POST", "/kbs/v0/attestation-policy", JSONEncoder().encode(policy)).status == 200)
    }

    @Test func aRealTDXQuoteIsAcceptedOrRefusedByPolicyAtAPinnedTime() async throws {
        let server = try KBSServerProcess(dev: false)
        // Reference values that match: accepted at a time its collateral is valid, with its claims.
        try await Self.setPolicy(server, AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": [Self.mrTD]])]))
        let accepted = try await Self.appraise(server, time: Self.valid)
        #expect(accepted.status == 200 && accepted.result["allowed"] == .bool(true) && accepted.result["dry_run"] == .bool(true),
                "\(String(decoding: accepted.reply.body, as: UTF8.self))")
        #expect(accepted.result["claims"]?["measurements"]?["mr_td"]?.stringValue == Self.mrTD)
        #expect(accepted.result["claims"]?["tcb_status"]?.stringValue == "UpToDate" && accepted.result["denial"] == nil)
        // It releases nothing: no session cookie, no token.
        #expect(accepted.reply.header("Set-Cookie") == nil && accepted.result["token"] == nil)

        // A reference value that differs: refused, naming the claim, the expected and the actual value.
        let other = String(repeating: "0", count: 96)
        try await Self.setPolicy(server, AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": [Self.mrTD], "rtmr1": [other]])]))
        let differs = try await Self.appraise(server, time: Self.valid)
        #expect(differs.status == 200 && differs.result["allowed"] == .bool(false))
        #expect(differs.result["denial"]?["claim"]?.stringValue == "rtmr1" && differs.result["denial"]?["expected"]?.stringValue == other)
        #expect(differs.result["denial"]?["actual"]?.stringValue?.hasPrefix("0084452c01668329") == true)
        #expect(differs.result["type"]?.stringValue == KBSFailure.typePrefix + "PolicyDeny")

        // After its TCB Info expired: refused by verification, naming the expired collateral.
        try await Self.setPolicy(server, AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": [Self.mrTD]])]))
        let late = try await Self.appraise(server, time: Self.expired)
        #expect(late.status == 200 && late.result["allowed"] == .bool(false))
        let denial = try #require(late.result["denial"], "\(String(decoding: late.reply.body, as: UTF8.self))")
        #expect(denial["claim"]?.stringValue == "evidence" && denial["expected"]?.stringValue?.contains("expired") == true)
        #expect(denial["actual"]?.stringValue?.contains("TCB Info expired") == true, "\(denial)")
        // Without "time" the KBS evaluates now, when this collateral has long expired too.
        #expect(try await Self.appraise(server, time: nil).result["allowed"] == .bool(false))

        // Each dry run is in the audit log as one, with its decision and pinned time.
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let audit = try decoder.decode([Decision].self, from: try await server.admin("GET", "/kbs/v0/audit", nil).body)
        let runs = audit.filter { $0.action.hasPrefix("appraise (dry run) at ") }
        #expect(runs.count == 4 && audit.count == 4)
        #expect(runs.last?.action == "appraise (dry run) at \(Self.valid)" && runs.last?.allowed == true && runs.last?.session == accepted.result["id"]?.stringValue)
        #expect(runs.contains { !$0.allowed && $0.denial?.claim == "rtmr1" && !$0.claimsDigest.isEmpty })
        #expect(runs.contains { !$0.allowed && $0.action == "appraise (dry run) at \(Self.expired)" && $0.denial?.claim == "evidence" })
        await server.client.shutdown()
    }

    @Test func aRealSGXQuoteNeedsItsStatusAndAdvisoriesAccepted() async throws {
        let server = try KBSServerProcess(dev: false)
        try await Self.setPolicy(server, AttestationPolicy(tees: ["sgx": TEEAttestationPolicy(referenceValues: ["mr_enclave": [Self.mrEnclave]])]))
        let strict = try await Self.appraise(server, tee: "sgx", vector: "sgx-dcap", time: Self.valid)
        #expect(strict.result["allowed"] == .bool(false) && strict.result["denial"]?["claim"]?.stringValue == "tcb_status")
        #expect(strict.result["denial"]?["actual"]?.stringValue == "ConfigurationAndSWHardeningNeeded")
        try await Self.setPolicy(server, AttestationPolicy(tees: ["sgx": TEEAttestationPolicy(
            tcbStatuses: [.upToDate, .configurationAndSWHardeningNeeded], allowedAdvisoryIDs: ["INTEL-SA-00289", "INTEL-SA-00615"],
            referenceValues: ["mr_enclave": [Self.mrEnclave]])]))
        let lenient = try await Self.appraise(server, tee: "sgx", vector: "sgx-dcap", time: Self.valid)
        #expect(lenient.result["allowed"] == .bool(true), "\(String(decoding: lenient.reply.body, as: UTF8.self))")
        #expect(lenient.result["claims"]?["measurements"]?["mr_enclave"]?.stringValue == Self.mrEnclave)
        await server.client.shutdown()
    }

    @Test func malformedOrUnauthenticatedDryRunsAreClientErrors() async throws {
        let server = try KBSServerProcess(dev: false)
        let good = try Self.body(tee: "tdx", vector: "tdx-dcap", time: Self.valid)
        #expect(try await server.client.send("POST", "/kbs/v0/admin/appraise", body: good).status == 401)
        func expect(_ body: String, _ text: String) async throws {
            let reply = try await server.admin("POST", "/kbs/v0/admin/appraise", Data(body.utf8))
            #expect(reply.status == 400 && reply.error?.detail.contains(text) == true, "\(body): \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        }
        try await expect("{not json", "malformed appraisal request JSON")
        try await expect(#"{"tee":"cca","evidence":"AAAA"}"#, "tee \"cca\" is not supported")
        try await expect(#"{"tee":"tdx"}"#, "missing field \"evidence\"")
        try await expect(#"{"tee":"tdx","evidence":"@@@"}"#, "not valid base64")
        try await expect(#"{"tee":"tdx","evidence":"AAAA","time":"yesterday"}"#, "\"time\"")
        // A TDX quote presented as SGX is a 400, as in attest.
        let swapped = try Self.body(tee: "sgx", vector: "tdx-dcap", time: Self.valid)
        let reply = try await server.admin("POST", "/kbs/v0/admin/appraise", swapped)
        #expect(reply.status == 400 && reply.error?.detail.contains("not sgx evidence") == true, "\(String(decoding: reply.body, as: UTF8.self))")
        #expect(server.process.isRunning)
        await server.client.shutdown()
    }

    /// `coffer kbs admin appraise` through the real executable: exit 0 and the claims when accepted,
    /// exit 1 naming the claim when refused.
    @Test func theAppraiseCLI() async throws {
        let server = try KBSServerProcess(dev: false)
        try await Self.setPolicy(server, AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": [Self.mrTD]])]))
        let adminKey = try server.home.write("admin.key", server.adminKey.pemRepresentation, mode: 0o600)
        let vector = try Vectors.path("tdx-dcap")
        func appraise(_ time: Int) throws -> CommandResult {
            try run(Repository.executable("coffer"), ["kbs", "admin", "appraise", "--url", server.url, "--key", adminKey, "--cacert", server.certificatePath,
                                                      "--tee", "tdx", "--evidence", vector + "/quote.bin", "--collateral", vector + "/collateral.json",
                                                      "--time", String(time)])
        }
        let accepted = try appraise(Self.valid)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.stdout.contains("result  allowed (dry run)") && accepted.stdout.contains("mr_td \(Self.mrTD)"), "\(accepted.stdout)")
        let late = try appraise(Self.expired)
        #expect(late.status == 1)
        #expect(late.stdout.contains("result  denied (dry run)") && late.stdout.contains("claim   evidence") && late.stdout.contains("TCB Info expired"), "\(late.stdout)")
        await server.client.shutdown()
    }
}
