import CofferCore
@testable import CofferKBS
import CofferKBSProtocol
import CofferTestSupport
import Crypto
import Foundation

/// A real `coffer kbs serve --dev` on 127.0.0.1 (plain HTTP, loopback), shared by the suite:
/// sample evidence signed by `launcherKey` over `measurement` is admitted, and the resources
/// below are released to it, except `default/other/key`, whose rule wants another measurement.
final class BrokerProcess: @unchecked Sendable {
    static let measurement = [UInt8](repeating: 0x5C, count: 48)
    static let resources: [String: [UInt8]] = [
        "default/app/key": Array("app-key-7f3a9c".utf8),
        "default/app/db-password": Array("db-password-c0ffee".utf8),
        "default/vol/data": (0..<96).map { UInt8($0 ^ 0xA5) },
        "default/other/key": Array("other-secret-d00d".utf8),
    ]

    let home: TemporaryDirectory
    let process = Process()
    let adminKey = P256.Signing.PrivateKey()
    let launcherKey = Curve25519.Signing.PrivateKey()
    let url: String
    let client: KBSClient
    /// The broker's signing key, PEM: what a launch's init-data names as its identity.
    let identity: String
    private let output = Pipe()
    private let errors = Pipe()

    init() async throws {
        home = try TemporaryDirectory("coffer-agent-kbs")
        let adminPub = try home.write("admin.pub", adminKey.publicKey.pemRepresentation)
        let launcherPub = try home.write("launcher.pub", launcherKey.publicKey.pemRepresentation)
        process.executableURL = URL(fileURLWithPath: Repository.executable("coffer"))
        process.arguments = ["kbs", "serve", "--home", home.path + "/state", "--listen", "127.0.0.1:0", "--insecure-http", "--dev",
                             "--admin-key", adminPub, "--sample-signer", launcherPub]
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var buffer = ""
        while true {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw TestFailure("coffer kbs serve exited before listening") }
            buffer += String(decoding: chunk, as: UTF8.self)
            if let line = buffer.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                url = String(line.dropFirst("listening on ".count))
                break
            }
        }
        client = try KBSClient(baseURL: url, connectTimeout: 2)
        identity = String(decoding: try await client.send("GET", "/kbs/v0/signing-key").body, as: UTF8.self)
        let sample = Hex.encode(Self.measurement)
        let policy = AttestationPolicy(tees: ["sample": TEEAttestationPolicy(referenceValues: ["measurement": [sample]])])
        try await admin("/kbs/v0/attestation-policy", JSONEncoder().encode(policy))
        let rules = ResourcePolicy(rules: [
            ResourceRule(resources: ["default/app/*", "default/vol/*"], measurements: ["measurement": [sample]]),
            ResourceRule(resources: ["default/other/*"], measurements: ["measurement": [String(repeating: "ab", count: 48)]]),
        ])
        try await admin("/kbs/v0/resource-policy", JSONEncoder().encode(rules))
        for (path, value) in Self.resources { try await admin("/kbs/v0/resource/\(path)", Data(value)) }
    }

    private func admin(_ path: String, _ body: Data) async throws {
        let headers = ["Authorization": "Bearer \(try AdminAuthenticator.token(key: adminKey, now: Date()))"]
        let reply = try await client.send("POST", path, body: body, headers: headers)
        guard reply.status == 200 else { throw TestFailure("admin \(path): HTTP \(reply.status)") }
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
