@testable import CofferKBS
import CofferCore
import CofferTestSupport
import Crypto
import Foundation
import Testing

/// The admin API of the real `coffer kbs serve` process over real HTTPS, with real SQLite.
@Suite(.serialized) struct KBSAdminAPITests {
    @Test func aResourcePolicyWithAShortImageIDIsRefusedNamingTheEntry() async throws {
        let server = try KBSServerProcess(dev: true)
        let image = String(repeating: "ab", count: 32)
        let body = #"{"rules":[{"resources":["default/key/*"],"image_ids":["sha256:\#(image)","abcd"]}]}"#
        let refused = try await server.admin("POST", "/kbs/v0/resource-policy", Data(body.utf8))
        #expect(refused.status == 400)
        #expect(refused.error?.detail.contains(#"rules[0].image_ids: "abcd" is not a full image id"#) == true, "\(String(decoding: refused.body, as: UTF8.self))")
        // Nothing was stored: the policy in force is still the default (nothing readable)...
        let key = TEEKeyPair.ec()
        try await KBSEndToEndTests.configure(server)
        let rules = ResourcePolicy(rules: [ResourceRule(resources: ["default/key/*"], imageIDs: ["sha256:" + image.uppercased()])])
        #expect(try await server.admin("POST", "/kbs/v0/resource-policy", JSONEncoder().encode(rules)).status == 200)
        // ...and a full id, sha256:-prefixed in upper case, admits exactly the workload launched with it.
        let attester = SampleAttester(launcherKey: server.launcherKey, measurement: KBSEndToEndTests.measurement, hostData: Hex.decode(image)!)
        let handshake = try await server.client.handshake(tee: "sample", key: key) { try attester.evidence(runtimeData: $0, hash: $1) }
        #expect(try await server.client.resource("default/key/disk", session: handshake.session, key: key).plaintext == Array("the-disk-key".utf8))
        let near = Hex.decode(String(image.dropLast(2)) + "ac")!
        let other = SampleAttester(launcherKey: server.launcherKey, measurement: KBSEndToEndTests.measurement, hostData: near)
        let stranger = try await server.client.handshake(tee: "sample", key: key) { try other.evidence(runtimeData: $0, hash: $1) }
        let denied = await #expect(throws: KBSClientError.self) { try await server.client.resource("default/key/disk", session: stranger.session, key: key) }
        #expect(denied?.status == 403 && denied?.information?.denial?.claim == "host_data")
    }

    static func decisions(_ reply: KBSClient.Reply) throws -> [Decision] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode([Decision].self, from: reply.body)
    }

    /// Update, delete, both policies replaced, and the audit log — each seen through real handshakes.
    @Test func updateDeleteReplacePoliciesAndAudit() async throws {
        let server = try KBSServerProcess(dev: true)
        try await KBSEndToEndTests.configure(server)
        let client = server.client
        let key = TEEKeyPair.ec()
        let first = try await client.handshake(tee: "sample", key: key, evidence: KBSEndToEndTests.evidence(server))
        #expect(try await client.resource("default/key/disk", session: first.session, key: key).plaintext == Array("the-disk-key".utf8))

        // Overwrite: a fresh handshake reads the new value.
        #expect(try await server.admin("POST", "/kbs/v0/resource/default/key/disk", Data("the-new-key".utf8)).status == 200)
        let second = try await client.handshake(tee: "sample", key: key, evidence: KBSEndToEndTests.evidence(server))
        #expect(try await client.resource("default/key/disk", session: second.session, key: key).plaintext == Array("the-new-key".utf8))

        // Delete: the read is a 404 naming the resource, and so is a second delete.
        let deleted = try await server.admin("DELETE", "/kbs/v0/resource/default/key/disk", nil)
        #expect(deleted.status == 200 && String(decoding: deleted.body, as: UTF8.self).contains("deleted"))
        let gone = await #expect(throws: KBSClientError.self) { try await client.resource("default/key/disk", session: second.session, key: key) }
        #expect(gone?.status == 404 && gone?.information?.detail == "resource default/key/disk does not exist")
        let again = try await server.admin("DELETE", "/kbs/v0/resource/default/key/disk", nil)
        #expect(again.status == 404 && again.error?.detail == "resource default/key/disk does not exist")

        // Resource policy replaced: the path is no longer covered, whatever the workload.
        #expect(try await server.admin("POST", "/kbs/v0/resource/default/key/disk", Data("the-third-key".utf8)).status == 200)
        let narrower = ResourcePolicy(rules: [ResourceRule(resources: ["other/key/*"], anyWorkload: true)])
        #expect(try await server.admin("POST", "/kbs/v0/resource-policy", JSONEncoder().encode(narrower)).status == 200)
        let uncovered = await #expect(throws: KBSClientError.self) { try await client.resource("default/key/disk", session: second.session, key: key) }
        #expect(uncovered?.status == 403 && uncovered?.information?.denial?.claim == "resource")

        // Attestation policy replaced: the same evidence is now refused, naming the new reference value.
        let newMeasurement = String(repeating: "77", count: 48)
        let stricter = AttestationPolicy(tees: ["sample": TEEAttestationPolicy(referenceValues: ["measurement": [newMeasurement]])])
        #expect(try await server.admin("POST", "/kbs/v0/attestation-policy", JSONEncoder().encode(stricter)).status == 200)
        let refused = await #expect(throws: KBSClientError.self) {
            try await client.handshake(tee: "sample", key: key, evidence: KBSEndToEndTests.evidence(server))
        }
        let denial = try #require(refused?.information?.denial)
        #expect(refused?.status == 401 && denial.claim == "measurement" && denial.expected == newMeasurement)
        let deniedSession = try #require(refused?.session)

        // The audit log holds every decision above, newest first, and never a secret or a token.
        let audit = try await server.admin("GET", "/kbs/v0/audit?limit=100", nil)
        #expect(audit.status == 200)
        let text = String(decoding: audit.body, as: UTF8.self)
        for secret in ["the-disk-key", "the-new-key", "the-third-key", first.token, second.token] { #expect(!text.contains(secret)) }
        let all = try Self.decisions(audit)
        func has(_ session: String, _ action: String, _ allowed: Bool, _ check: (Decision) -> Bool = { _ in true }) -> Bool {
            all.contains { $0.session == session && $0.action == action && $0.allowed == allowed && check($0) }
        }
        #expect(has(first.session, "attest", true) && has(first.session, "resource default/key/disk", true))
        #expect(has(second.session, "attest", true) && has(second.session, "resource default/key/disk", true))
        #expect(has(second.session, "resource default/key/disk", false) { $0.reason == "no such resource" })
        #expect(has(second.session, "resource default/key/disk", false) { $0.denial?.claim == "resource" })
        #expect(has(deniedSession, "attest", false) { $0.denial?.claim == "measurement" && $0.denial?.expected == newMeasurement && !$0.claimsDigest.isEmpty })
        #expect(all.first?.session == deniedSession)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.time >= $1.time })
        // Filtered by session, and limited.
        let one = try Self.decisions(try await server.admin("GET", "/kbs/v0/audit?session=\(first.session)", nil))
        #expect(one.count == 2 && one.allSatisfy { $0.session == first.session } && one.first?.action == "resource default/key/disk")
        #expect(try Self.decisions(try await server.admin("GET", "/kbs/v0/audit?limit=1", nil)).count == 1)
        // Not without the admin key.
        #expect(try await client.send("GET", "/kbs/v0/audit").status == 401)
        await client.shutdown()
    }

    /// `coffer kbs admin` set-policy, put-resource, delete-resource and audit through the real
    /// executable against the real server; each change is seen by a real handshake.
    @Test func theAdminCLI() async throws {
        let server = try KBSServerProcess(dev: true)
        let adminKey = try server.home.write("admin.key", server.adminKey.pemRepresentation, mode: 0o600)
        func admin(_ arguments: [String]) throws -> CommandResult {
            let sub = arguments[0]
            return try run(Repository.executable("coffer"), ["kbs", "admin", sub, "--url", server.url, "--key", adminKey, "--cacert", server.certificatePath]
                           + arguments.dropFirst())
        }
        let measurement = Hex.encode(KBSEndToEndTests.measurement)
        let attestation = try server.home.write("attestation.json", #"{"tees":{"sample":{"reference_values":{"measurement":["\#(measurement)"]}}}}"#)
        let resource = try server.home.write("resource.json", #"{"rules":[{"resources":["default/key/*"],"measurements":{"measurement":["\#(measurement)"]}}]}"#)
        let short = try server.home.write("short.json", #"{"rules":[{"resources":["default/key/*"],"image_ids":["abcd"]}]}"#)
        let v1 = try server.home.write("v1", "cli-value-1", mode: 0o600), v2 = try server.home.write("v2", "cli-value-2", mode: 0o600)

        var result = try admin(["set-policy", "--kind", "attestation", "--file", attestation])
        #expect(result.status == 0 && result.stdout.contains("attestation policy set"), "\(result.stderr)")
        result = try admin(["set-policy", "--kind", "resource", "--file", resource])
        #expect(result.status == 0 && result.stdout.contains("resource policy set"), "\(result.stderr)")
        result = try admin(["set-policy", "--kind", "resource", "--file", short])
        #expect(result.status != 0 && result.stderr.contains("HTTP 400") && result.stderr.contains(#"rules[0].image_ids: "abcd""#), "\(result.stderr)")
        result = try admin(["put-resource", "--resource", "default/key/cli", "--file", v1])
        #expect(result.status == 0 && result.stdout.contains("stored default/key/cli"), "\(result.stderr)")

        let key = TEEKeyPair.ec()
        let handshake = try await server.client.handshake(tee: "sample", key: key, evidence: KBSEndToEndTests.evidence(server))
        #expect(try await server.client.resource("default/key/cli", session: handshake.session, key: key).plaintext == Array("cli-value-1".utf8))
        result = try admin(["put-resource", "--resource", "default/key/cli", "--file", v2])
        #expect(result.status == 0)
        #expect(try await server.client.resource("default/key/cli", session: handshake.session, key: key).plaintext == Array("cli-value-2".utf8))

        result = try admin(["delete-resource", "--resource", "default/key/cli"])
        #expect(result.status == 0 && result.stdout.contains("deleted default/key/cli"), "\(result.stderr)")
        let gone = await #expect(throws: KBSClientError.self) { try await server.client.resource("default/key/cli", session: handshake.session, key: key) }
        #expect(gone?.status == 404)
        result = try admin(["delete-resource", "--resource", "default/key/cli"])
        #expect(result.status != 0 && result.stderr.contains("HTTP 404") && result.stderr.contains("resource default/key/cli does not exist"))

        result = try admin(["audit", "--session", handshake.session])
        #expect(result.status == 0, "\(result.stderr)")
        let decisions = try Self.decisions(KBSClient.Reply(status: 200, body: Data(result.stdout.utf8), headers: []))
        #expect(decisions.map(\.action) == ["resource default/key/cli", "resource default/key/cli", "resource default/key/cli", "attest"])
        #expect(decisions.map(\.allowed) == [false, true, true, true])
        #expect(!result.stdout.contains("cli-value") && !result.stdout.contains(handshake.token))
        // A key that is not the configured admin key is refused.
        let stranger = try server.home.write("stranger.key", P256.Signing.PrivateKey().pemRepresentation, mode: 0o600)
        result = try run(Repository.executable("coffer"), ["kbs", "admin", "audit", "--url", server.url, "--key", stranger, "--cacert", server.certificatePath])
        #expect(result.status != 0 && result.stderr.contains("HTTP 401"))
        await server.client.shutdown()
    }
}
