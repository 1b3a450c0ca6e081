import ArgumentParser
import CofferCore
import CofferImage
import CofferKBS
import CofferVerifier
import Crypto
import Foundation

/// `coffer kbs`: the key broker (Trustee KBS protocol 0.4.0) and its client.
struct KBSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kbs",
        abstract: "Key broker: release secrets only to attested workloads (Confidential Containers KBS protocol).",
        subcommands: [KBSServe.self, KBSClientCommand.self, KBSExplain.self, KBSAdminToken.self, KBSAdmin.self])
}

/// Runs async work from a synchronous ArgumentParser command (the root command is synchronous).
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = BlockingOutcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { outcome.result = .success(try await body()) } catch { outcome.result = .failure(error) }
        done.signal()
    }
    done.wait()
    guard let result = outcome.result else { throw CofferError(.internalError, "async command finished without a result") }
    return try result.get()
}

final class BlockingOutcome<T>: @unchecked Sendable { var result: Result<T, any Error>? }

func kbsHome(_ options: StoreOptions) -> KBSHome { KBSHome(directory: options.store.home + "/kbs") }

func readPEM(_ path: String, _ flag: String) throws(CofferError) -> String {
    String(decoding: try FileSystem.read(path), as: UTF8.self)
}

struct KBSServe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the key broker on loopback.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "HOST:PORT to listen on (port 0 picks a free one).") var listen: String = "127.0.0.1:8080"
    @Flag(help: "Development mode: accept sample evidence (NOT hardware-backed).") var dev = false
    @Flag(help: "Serve plain HTTP instead of HTTPS (loopback only, for tests).") var insecureHttp = false
    @Option(help: ArgumentHelp("TLS certificate (PEM, leaf first, then intermediates) instead of the self-signed $COFFER_HOME/kbs/tls.crt; needs --tls-key.", valueName: "file"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("Private key (PEM) of --tls-cert.", valueName: "file")) var tlsKey: String?
    @Option(help: "Admin public key (P-256 PEM); without it the admin API is disabled.") var adminKey: String?
    @Option(help: ArgumentHelp("How long a session and its cookie live from auth (1-86400; default 300).", valueName: "seconds"))
    var sessionLifetime: Int = 300
    @Option(help: ArgumentHelp("At most this many unauthenticated (challenged, not yet attested) sessions per client address (default 1024; behind a proxy all clients share its address).", valueName: "count"))
    var maxUnauthenticatedPerAddress: Int = 1_024
    @Option(help: "Trust sample evidence signed by this launcher public key (Ed25519 PEM); with --dev, default $COFFER_HOME/keys/launcher.pub (made if absent, as `coffer run` would).")
    var sampleSigner: [String] = []
    @Option(help: ArgumentHelp("PostgreSQL shared by broker replicas, postgres://USER@HOST:PORT/DATABASE (or ?host=/socket/dir); default: SQLite in $COFFER_HOME/kbs. Migrated on start.", valueName: "url"))
    var database: String?
    @Option(help: ArgumentHelp("The master key sealing resources (32 bytes or 64 hex digits; made 0600 if absent); default $COFFER_KBS_MASTER_KEY (hex) if set, else $COFFER_HOME/kbs/master.key. Keep it apart from the database.", valueName: "file"))
    var masterKey: String?

    func run() throws {
        try reportingErrors {
            let parts = listen.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else {
                throw CofferError(.invalidInput, "--listen \(listen): expected HOST:PORT")
            }
            let host = String(parts[0])
            /// Security: plain HTTP exposes tokens and cookies on the wire; only loopback is allowed.
            guard !insecureHttp || ["127.0.0.1", "localhost", "::1"].contains(host) else {
                throw CofferError(.invalidInput, "--insecure-http is for loopback only; \(host) is not a loopback address")
            }
            guard (1...86_400).contains(sessionLifetime) else {
                throw CofferError(.invalidInput, "--session-lifetime \(sessionLifetime): expected 1 to 86400 seconds")
            }
            guard (1...100_000).contains(maxUnauthenticatedPerAddress) else {
                throw CofferError(.invalidInput, "--max-unauthenticated-per-address \(maxUnauthenticatedPerAddress): expected 1 to 100000")
            }
            var tlsIdentity: TLSIdentity?
            switch (tlsCert, tlsKey) {
            case (nil, nil): break
            case (let cert?, let key?):
                guard !insecureHttp else { throw CofferError(.invalidInput, "--tls-cert/--tls-key and --insecure-http exclude each other") }
                do { tlsIdentity = try TLSIdentity.load(certificate: cert, key: key) } catch {
                    throw CofferError(.invalidInput, "\(error)")
                }
            default:
                throw CofferError(.invalidInput, "--tls-cert and --tls-key go together: give both (PEM certificate and its private key) or neither")
            }
            var trust = TrustAnchors()
            var signers = sampleSigner
            if dev, signers.isEmpty {
                // Development mode on one machine: the broker trusts this home's launcher, whose
                // key is made here if `coffer run` has not made it yet (decision 0032).
                _ = try LauncherKey.load(explicit: nil, store: storeOptions.store)
                signers = [storeOptions.store.keysDirectory + "/launcher.pub"]
            }
            for path in signers {
                guard let key = try? Curve25519.Signing.PublicKey(pemRepresentation: try readPEM(path, "--sample-signer")) else {
                    throw CofferError(.invalidInput, "--sample-signer \(path): not an Ed25519 public key in PEM")
                }
                trust.sampleSigners.append(key)
            }
            var admin: P256.Signing.PublicKey?
            if let adminKey {
                guard let key = try? P256.Signing.PublicKey(pemRepresentation: try readPEM(adminKey, "--admin-key")) else {
                    throw CofferError(.invalidInput, "--admin-key \(adminKey): not a P-256 public key in PEM")
                }
                admin = key
            }
            let store = try KBSDatabase.parse(database)
            let service = KBSService(home: kbsHome(storeOptions), host: host, port: port,
                                     configuration: KBSConfiguration(devMode: dev, trust: trust, sessionLifetime: TimeInterval(sessionLifetime),
                                                                                     sessionLimits: SessionLimits(unauthenticatedPerSource: maxUnauthenticatedPerAddress)),
                                     adminKey: admin, tls: !insecureHttp,
                                     tlsIdentity: tlsIdentity, database: store, masterKey: MasterKeySource.resolve(flag: masterKey))
            if dev { FileHandle.standardError.write(Data("coffer kbs: --dev: sample evidence is accepted; it is NOT hardware-backed\n".utf8)) }
            try blocking {
                try await service.run(announce: { line in
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }, warn: { line in
                    FileHandle.standardError.write(Data(("coffer kbs: " + line + "\n").utf8))
                })
            }
        }
    }
}

extension KBSDatabase {
    /// `--database`: nil is SQLite in the KBS directory.
    static func parse(_ url: String?) throws -> KBSDatabase {
        guard let url else { return .sqlite }
        do { return .postgres(try PostgresDatabaseURL(url)) } catch { throw CofferError(.invalidInput, error.description) }
    }
}

struct KBSExplain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Show the last decision recorded for a session.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The kbs-session-id.") var session: String
    @Option(help: ArgumentHelp("The brokers' PostgreSQL (as given to serve --database); default: SQLite in $COFFER_HOME/kbs.", valueName: "url"))
    var database: String?
    @Option(help: ArgumentHelp("The master key file (as given to serve --master-key).", valueName: "file")) var masterKey: String?

    func run() throws {
        try reportingErrors {
            let home = kbsHome(storeOptions)
            let database = try KBSDatabase.parse(self.database)
            if case .sqlite = database, !FileSystem.exists(home.databasePath) { throw CofferError(.notFound, "\(home.databasePath): no KBS store here") }
            let session = self.session, source = MasterKeySource.resolve(flag: masterKey)
            let (found, warnings) = try blocking { () -> (Decision?, [String]) in
                let opened = try await database.open(home: home, masterKey: source)
                let store = opened.store
                defer { Task { await opened.close() } }
                guard let decision = try await store.decisions(session: session, limit: 1).first else { return (nil, []) }
                /// Security: an admission that rests on an explicit "any" flag (decision 0019) says so.
                let attestation = try await store.attestationPolicy().explicitAnyWarnings(tee: decision.tee)
                let resource = decision.action.hasPrefix("resource ") ? try await store.resourcePolicy().explicitAnyWarnings(tee: decision.tee) : []
                return (decision, attestation + resource)
            }
            guard let decision = found else { throw CofferError(.notFound, "no decision recorded for session \(session)") }
            var lines = ["session \(decision.session)", "action  \(decision.action)", "tee     \(decision.tee)",
                         "result  \(decision.allowed ? "allowed" : "denied")", "reason  \(decision.reason)"]
            if let denial = decision.denial {
                lines += ["claim   \(denial.claim)", "expected \(denial.expected)"]
                if let actual = denial.actual { lines.append("actual  \(actual)") }
            }
            if let image = decision.imageID { lines.append("image   \(image) (image_id, from the bound init-data)") }
            if !decision.claimsDigest.isEmpty { lines.append("claims  sha256:\(decision.claimsDigest)") }
            lines += warnings.map { "warning \($0)" }
            print(lines.joined(separator: "\n"))
            if !decision.allowed { throw ExitCode.failure }
        }
    }
}

struct KBSAdminToken: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admin-token", abstract: "Print a short-lived admin bearer token.")

    @Option(help: "Admin private key (P-256 PKCS#8 PEM); created with its .pub beside it if absent.") var key: String
    @Option(help: "Lifetime in seconds (at most 300).") var lifetime: Int = 120

    func run() throws {
        try reportingErrors {
            let signing = try AdminKey.load(key)
            print(try AdminAuthenticator.token(key: signing, now: Date(), lifetime: TimeInterval(min(max(lifetime, 1), 300))))
        }
    }
}

enum AdminKey {
    static func load(_ path: String) throws -> P256.Signing.PrivateKey {
        if !FileSystem.exists(path) {
            let key = P256.Signing.PrivateKey()
            try AtomicFile.write(Data(key.pemRepresentation.utf8), to: path, mode: 0o600)
            try AtomicFile.write(Data(key.publicKey.pemRepresentation.utf8), to: path + ".pub")
            return key
        }
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: try readPEM(path, "--key")) else {
            throw CofferError(.invalidInput, "\(path) is not a P-256 private key in PEM")
        }
        return key
    }
}
