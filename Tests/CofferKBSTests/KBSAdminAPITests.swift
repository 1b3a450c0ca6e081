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
}
