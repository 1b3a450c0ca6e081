@testable import CofferKBS
import CofferCore
import CofferTestSupport
import CofferVerifier
import Crypto
import Foundation
import Testing

/// The image id from bound init-data (decision 0030), through the real `coffer kbs serve` in
/// `--dev` mode with real sample evidence: the launcher sets `host_data` to the init-data's digest,
/// the guest presents the document, and `image_ids` rules match the `image_id` claim its
/// `[data] "coffer.json"` names.
@Suite(.serialized) struct InitDataImageTests {
    static let image = "sha256:" + String(repeating: "3c", count: 32)
    static let otherImage = "sha256:" + String(repeating: "3d", count: 32)

    /// Init-data as `coffer run --secret` writes it, naming `image`.
    static func initData(image: String) throws -> InitDataDocument {
        try LaunchConfiguration(image: image, broker: .init(url: "https://kbs.example", identity: "-----BEGIN PUBLIC KEY-----\nx\n"),
                                secrets: [.init(resource: "kbs:///default/key/disk", path: "/run/secrets/disk")]).initDataDocument()
    }

    /// A handshake whose sample evidence binds `launchedWith` (host_data = its digest, 32 bytes)
    /// and whose attest presents `presented`.
    static func handshake(_ server: KBSServerProcess, key: TEEKeyPair, launchedWith: InitDataDocument, presented: InitDataDocument) async throws -> KBSHandshake {
        let attester = SampleAttester(launcherKey: server.launcherKey, measurement: KBSEndToEndTests.measurement, hostData: launchedWith.field(length: 32))
        return try await server.client.handshake(tee: "sample", key: key, initData: InitData(format: "toml", body: presented.text)) {
            try attester.evidence(runtimeData: $0, hash: $1)
        }
    }

    static func configure(_ server: KBSServerProcess) async throws {
        try await KBSEndToEndTests.configure(server)
        let rules = ResourcePolicy(rules: [ResourceRule(resources: ["default/key/*"], imageIDs: [image])])
        #expect(try await server.admin("POST", "/kbs/v0/resource-policy", JSONEncoder().encode(rules)).status == 200)
    }

    @Test func aRuleNamingTheImageAdmitsTheGuestWhoseInitDataNamesIt() async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server)
        let key = TEEKeyPair.ec()
        let document = try Self.initData(image: Self.image)
        let handshake = try await Self.handshake(server, key: key, launchedWith: document, presented: document)
        #expect(try await server.client.resource("default/key/disk", session: handshake.session, key: key).plaintext == Array("the-disk-key".utf8))
        // The token carries the claim, so a Bearer read is admitted by the same rule.
        let byToken = try await server.client.send("GET", "/kbs/v0/resource/default/key/disk", headers: ["Authorization": "Bearer \(handshake.token)"])
        #expect(byToken.status == 200)
        // The audit and explain show the image the decision was made on.
        let audit = try KBSAdminAPITests.decisions(try await server.admin("GET", "/kbs/v0/audit?session=\(handshake.session)", nil))
        #expect(audit.count == 3 && audit.allSatisfy { $0.imageID == Self.image }, "\(audit)")
        await server.client.shutdown()
        server.stop()
        let explain = try run(Repository.executable("coffer"), ["kbs", "explain", handshake.session, "--home", server.home.path + "/state"])
        #expect(explain.status == 0 && explain.stdout.contains("image   \(Self.image)"), "\(explain.stdout)")
    }

    @Test func aGuestWhoseInitDataNamesAnotherImageIsDeniedNamingTheClaim() async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server)
        let key = TEEKeyPair.ec()
        let document = try Self.initData(image: Self.otherImage)
        let handshake = try await Self.handshake(server, key: key, launchedWith: document, presented: document)
        let denied = await #expect(throws: KBSClientError.self) { try await server.client.resource("default/key/disk", session: handshake.session, key: key) }
        let denial = try #require(denied?.information?.denial)
        #expect(denied?.status == 403 && denial.claim == "image_id" && denial.actual == Self.otherImage && denial.expected.contains(Self.image), "\(denial)")
        // A launch without init-data whose host_data is the padded image id is still matched the
        // old way (the field), so `image_ids` keep their meaning for plain runs.
        let plain = SampleAttester(launcherKey: server.launcherKey, measurement: KBSEndToEndTests.measurement, hostData: Hex.decode(String(Self.image.dropFirst(7)))!)
        let old = try await server.client.handshake(tee: "sample", key: key) { try plain.evidence(runtimeData: $0, hash: $1) }
        #expect(try await server.client.resource("default/key/disk", session: old.session, key: key).plaintext == Array("the-disk-key".utf8))
    }

    /// Security: init-data that is not the one the launch measured (a relay's substitute naming
    /// the admitted image) is denied at attest, naming host_data, and never yields an image id.
    @Test func initDataThatDoesNotBindIsDeniedAndContributesNoImage() async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server)
        let key = TEEKeyPair.ec()
        let launched = try Self.initData(image: Self.otherImage), substitute = try Self.initData(image: Self.image)
        let error = await #expect(throws: KBSClientError.self) {
            try await Self.handshake(server, key: key, launchedWith: launched, presented: substitute)
        }
        let denial = try #require(error?.information?.denial)
        #expect(error?.status == 401 && denial.claim == "host_data" && denial.expected == Hex.encode(substitute.field(length: 32))
                && denial.actual == Hex.encode(launched.field(length: 32)), "\(denial)")
        let session = try #require(error?.session)
        let audit = try KBSAdminAPITests.decisions(try await server.admin("GET", "/kbs/v0/audit?session=\(session)", nil))
        #expect(audit.count == 1 && audit[0].allowed == false && audit[0].imageID == nil, "\(audit)")
        // The refused session reads nothing.
        let read = try await server.client.send("GET", "/kbs/v0/resource/default/key/disk", headers: ["Cookie": "kbs-session-id=\(session)"])
        #expect(read.status == 401)
    }

    /// Bound init-data whose `coffer.json` does not parse or validate: 400, naming the reason.
    @Test(arguments: [
        (#"{"version":1,"image":"sha256:abcd"}"#, "is not an image id"),
        (#"{"version":2,"image":"x"}"#, "version must be 1"),
        (#"{"version":1,"image":"sha256:\#(String(repeating: "3c", count: 32))","extra":1}"#, "unknown member extra"),
        ("not json", "does not parse"),
    ])
    func aConfigurationThatDoesNotParseFailsTheAttestNamingWhy(configuration: String, reason: String) async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server)
        let document = try InitDataDocument(algorithm: .sha384, data: [(key: LaunchConfiguration.initDataKey, value: configuration)])
        let error = await #expect(throws: KBSClientError.self) {
            try await Self.handshake(server, key: .ec(), launchedWith: document, presented: document)
        }
        #expect(error?.status == 400 && error?.information?.detail.contains("init-data [data] \"coffer.json\"") == true
                && error?.information?.detail.contains(reason) == true, "\(error?.description ?? "")")
    }

    /// Init-data of CoCo's entries only (no `coffer.json`) binds and adds no claim: the rule then
    /// matches the field, which holds the init-data digest, not an image id, so it denies.
    @Test func initDataWithoutCofferConfigurationAddsNoImage() throws {
        let document = try InitDataDocument(algorithm: .sha384, data: [(key: "aa.toml", value: "[token_configs]\n")])
        #expect(try InitDataBinding.imageID(InitData(format: "toml", body: document.text)) == nil)
        #expect(try InitDataBinding.imageID(InitData(format: "json", body: #"{"algorithm":"sha384"}"#)) == nil)
        #expect(try InitDataBinding.imageID(InitData(format: "toml", body: Self.initData(image: Self.image).text)) == Self.image)
        let claims = Claims(tee: .sample, hardwareBacked: false, tcbStatus: nil, advisoryIDs: [],
                            measurements: ["host_data": Hex.encode(document.field(length: 32))], reportData: "")
        let denial = try #require(ResourcePolicy(rules: [ResourceRule(resources: ["*"], imageIDs: [Self.image])]).evaluate(path: "a/b/c", claims: claims))
        #expect(denial.claim == "host_data")
    }

    /// The claim, when present, is what is matched: a field that happens to hold the padded id
    /// does not admit a launch whose bound configuration names another image.
    @Test func theImageClaimTakesPrecedenceOverTheField() throws {
        let field = String(Self.image.dropFirst(7))
        let claims = Claims(tee: .sample, hardwareBacked: false, tcbStatus: nil, advisoryIDs: [],
                            measurements: ["host_data": field, "image_id": Self.otherImage], reportData: "")
        let policy = ResourcePolicy(rules: [ResourceRule(resources: ["*"], imageIDs: [Self.image])])
        #expect(policy.evaluate(path: "a/b/c", claims: claims)?.claim == "image_id")
        var admitted = claims
        admitted.measurements["image_id"] = Self.image.uppercased().replacingOccurrences(of: "SHA256:", with: "sha256:")
        #expect(policy.evaluate(path: "a/b/c", claims: admitted) == nil)
    }
}
