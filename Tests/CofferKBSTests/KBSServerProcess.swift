@testable import CofferKBS
import CofferTestSupport
import Crypto
import Foundation

/// A real `coffer kbs serve` process on 127.0.0.1 with a free port, its own $COFFER_HOME, an
/// admin key and a launcher key; stopped (SIGKILL if asked) by the test.
final class KBSServerProcess: @unchecked Sendable {
    let home: TemporaryDirectory
    let process = Process()
    let adminKey = P256.Signing.PrivateKey()
    let launcherKey: Curve25519.Signing.PrivateKey
    let url: String
    private let output = Pipe()
    private let errors = Pipe()

    let client: KBSClient

    /// The certificate the client trusts: the KBS directory's `tls.crt`, or the operator's own
    /// (`tlsCertificate`, passed to `--tls-cert` with `--tls-key`).
    let certificatePath: String

    init(dev: Bool, tls: Bool = true, home: TemporaryDirectory? = nil, launcherKey: Curve25519.Signing.PrivateKey = .init(), adminKey: P256.Signing.PrivateKey? = nil,
         tlsCertificate: (certificate: String, key: String)? = nil, arguments: [String] = []) throws {
        self.home = try home ?? TemporaryDirectory("coffer-kbs")
        self.launcherKey = launcherKey
        let adminPub = try self.home.write("admin.pub", (adminKey ?? self.adminKey).publicKey.pemRepresentation)
        let launcherPub = try self.home.write("launcher.pub", launcherKey.publicKey.pemRepresentation)
        adminOverride = adminKey
        process.executableURL = URL(fileURLWithPath: Repository.executable("coffer"))
        process.arguments = ["kbs", "serve", "--home", self.home.path + "/state", "--listen", "127.0.0.1:0",
                             "--admin-key", adminPub, "--sample-signer", launcherPub] + (dev ? ["--dev"] : []) + (tls ? [] : ["--insecure-http"])
            + (tlsCertificate.map { ["--tls-cert", $0.certificate, "--tls-key", $0.key] } ?? []) + arguments
        certificatePath = tlsCertificate?.certificate ?? self.home.path + "/state/kbs/tls.crt"
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        url = try Self.waitForAnnouncement(output, errors)
        client = try KBSClient(baseURL: url, trustedCertificatePEM: tls ? String(contentsOfFile: certificatePath, encoding: .utf8) : nil,
                              connectTimeout: 1)  // after a kill -9, writers give up quickly
    }

    private let adminOverride: P256.Signing.PrivateKey?

    /// Reads stdout until `listening on URL`; fails (no hang) if the process exits first.
    private static func waitForAnnouncement(_ output: Pipe, _ errors: Pipe) throws -> String {
        var buffer = ""
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw TestFailure("coffer kbs serve exited before listening: \(stderr)")
            }
            buffer += String(decoding: chunk, as: UTF8.self)
            if let line = buffer.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                return String(line.dropFirst("listening on ".count))
            }
        }
    }

    var errorsHandle: FileHandle { errors.fileHandleForReading }

    func adminHeaders() throws -> [String: String] {
        ["Authorization": "Bearer \(try AdminAuthenticator.token(key: adminOverride ?? adminKey, now: Date()))"]
    }

    func admin(_ method: String, _ path: String, _ body: Data?) async throws -> KBSClient.Reply {
        try await client.send(method, path, body: body, headers: try adminHeaders())
    }

    func stop(kill: Bool = false) {
        guard process.isRunning else { return }
        if kill { Foundation.kill(process.processIdentifier, SIGKILL) } else { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop(kill: true) }
}
