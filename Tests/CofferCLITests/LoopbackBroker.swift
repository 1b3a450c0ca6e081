import CofferTestSupport
import Foundation

/// A real `coffer kbs serve --dev` on 127.0.0.1 for the confidential CLI tests: its own home, an
/// admin key, and the store's launcher key trusted for sample evidence (made if absent).
final class LoopbackBroker {
    let directory: TemporaryDirectory
    let url: String
    private let process: Process
    private let coffer: String
    private let home: String

    var certificate: String { directory.file("kbs/tls.crt") }
    var identity: String { directory.file("kbs/signing.pub") }
    /// What `coffer run` and `coffer measure` take to use this broker.
    var runOptions: [String] { ["--kbs", url, "--kbs-key", identity, "--kbs-cert", certificate] }

    init(coffer: String, home: String) throws {
        self.coffer = coffer
        self.home = home
        directory = try TemporaryDirectory("loopback-kbs")
        try FileManager.default.createDirectory(atPath: "\(home)/keys", withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: "\(home)/keys/launcher.pub") {
            try sh("openssl genpkey -algorithm ed25519 -out \(home)/keys/launcher.key && openssl pkey -in \(home)/keys/launcher.key -pubout -out \(home)/keys/launcher.pub")
        }
        try sh("openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out \(directory.file("admin.pem")) && openssl ec -in \(directory.file("admin.pem")) -pubout -out \(directory.file("admin.pub")) 2>/dev/null")
        process = Process()
        process.executableURL = URL(fileURLWithPath: coffer)
        process.arguments = ["kbs", "serve", "--dev", "--home", directory.path, "--listen", "127.0.0.1:0", "--admin-key", directory.file("admin.pub"),
                             "--sample-signer", "\(home)/keys/launcher.pub"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var announced = ""
        while !announced.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw TestFailure("coffer kbs serve ended before listening") }
            announced += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = announced.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) else {
            throw TestFailure("coffer kbs serve said: \(announced)")
        }
        url = String(line.dropFirst("listening on ".count))
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }

    /// The launcher key the broker trusts for sample evidence (the store's).
    var launcherKey: String { "\(home)/keys/launcher.key" }
    /// What `coffer kbs admin` and `coffer kbs client` take to reach this broker as its admin.
    var adminOptions: [String] { ["--url", url, "--key", directory.file("admin.pem"), "--cacert", certificate] }

    /// `coffer kbs admin ARGUMENTS` against this broker, whatever its outcome.
    func adminCommand(_ arguments: [String]) throws -> CommandResult {
        try run(coffer, ["kbs", "admin"] + arguments + adminOptions, environment: ["COFFER_HOME": home])
    }

    /// `coffer kbs admin ARGUMENTS` against this broker; throws with its error unless it succeeds.
    func admin(_ arguments: [String]) throws {
        let result = try adminCommand(arguments)
        guard result.status == 0 else { throw TestFailure("coffer kbs admin \(arguments) failed: \(result.stderr)") }
    }

    /// Admits any sample-evidence launch of the image `id` to the resources under `resources`
    /// (the image read from the bound init-data): what lets one test run several commands.
    func admit(image id: String, resources: String) throws {
        let policy = try directory.write("policy.json", """
            {"attestation": {"tees": {"sample": {"accept_any_measurement": true}}},
             "resource": {"rules": [{"resources": ["\(resources)"], "image_ids": ["\(id)"]}]}}
            """)
        try admin(["set-policy", "--file", policy])
    }

    func put(_ resource: String, _ bytes: [UInt8]) throws {
        let file = directory.file("resource-\(UUID().uuidString)")
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try admin(["put-resource", "--resource", resource, "--file", file])
    }
}
