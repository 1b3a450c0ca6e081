import CofferVerifier
import Crypto
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// `coffer kbs serve`: opens `$COFFER_HOME/kbs`, the store (SQLite there, or PostgreSQL) and the keys, and serves HTTP
/// until SIGTERM/SIGINT. Prints `listening on http://HOST:PORT` (the real port, also for `:0`)
/// once the socket is bound. Never logs request bodies, tokens or resource values.
public struct KBSService: Sendable {
    public var home: KBSHome
    public var host: String
    public var port: Int
    public var configuration: KBSConfiguration
    public var adminKey: P256.Signing.PublicKey?
    /// HTTPS with `tls.crt`/`tls.key` from the KBS directory (self-signed, made on first start);
    /// false is plain HTTP (`--insecure-http`, loopback tests only).
    public var tls: Bool
    /// The operator's certificate and key (`--tls-cert`, `--tls-key`); nil uses the KBS
    /// directory's `tls.crt`/`tls.key`, creating a self-signed pair on first start.
    public var tlsIdentity: TLSIdentity?
    /// SQLite in the KBS directory, or PostgreSQL shared by replicas (`--database`).
    public var database: KBSDatabase
    public var masterKey: MasterKeySource

    public init(home: KBSHome, host: String, port: Int, configuration: KBSConfiguration, adminKey: P256.Signing.PublicKey?, tls: Bool,
                tlsIdentity: TLSIdentity? = nil, database: KBSDatabase = .sqlite, masterKey: MasterKeySource = .home) {
        self.database = database
        self.masterKey = masterKey
        self.tls = tls
        self.tlsIdentity = tlsIdentity
        self.home = home
        self.host = host
        self.port = port
        self.configuration = configuration
        self.adminKey = adminKey
    }

    /// `announce` gets the `listening on` line (stdout); `warn` gets start-up warnings (stderr).
    public func run(announce: @escaping @Sendable (String) -> Void, warn: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        EventLoopExecutor.adopt()
        let opened = try await database.open(home: home, masterKey: masterKey, limits: configuration.sessionLimits)
        let store = opened.store
        let broker = KeyBroker(configuration: configuration, store: store, signingKey: opened.signingKey, sessions: opened.sessions)
        for line in await Self.policyReport(store) { warn(line) }
        let server = KBSServer(broker: broker, admin: adminKey.map(AdminAuthenticator.init(publicKey:)), secureCookies: tls)
        var logger = Logger(label: "coffer-kbs", factory: StandardErrorLogHandler.init)
        logger.logLevel = .warning
        let host = self.host
        let scheme = tls ? "https" : "http"
        var builder: HTTPServerBuilder = .http1()
        if tls {
            let tls = try tlsIdentity ?? TLSIdentity.loadOrCreate(in: home)
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(tls.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(tls.privateKeyPEM.utf8), format: .pem)))
            builder = try .coalescedTLS(configuration)
        }
        let app = Application(
            router: server.router(),
            server: builder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in announce("listening on \(scheme)://\(host):\(channel.localAddress?.port ?? 0)") },
            logger: logger)
        do { try await app.runService() } catch {
            await opened.close()
            throw error
        }
        await opened.close()
    }

    /// What the stored policies mean, said at start-up (decision 0019): a policy that names no
    /// workload (stored by an older Coffer) is refused — every decision it covers is denied until
    /// a corrected one is set through the admin API — and the explicit "any" flags are warnings.
    static func policyReport(_ store: any KBSStore) async -> [String] {
        var lines: [String] = []
        if let attestation = try? await store.attestationPolicy() {
            if let entry = attestation.invalidEntry() {
                lines.append("error: stored attestation policy refused: \(entry); attestations it covers are denied until a corrected policy is set")
            }
            lines += attestation.explicitAnyWarnings().map { "warning: " + $0 }
        }
        if let resource = try? await store.resourcePolicy() {
            if let entry = resource.invalidEntry() {
                lines.append("error: stored resource policy refused: \(entry); requests it covers are denied until a corrected policy is set")
            }
            lines += resource.explicitAnyWarnings().map { "warning: " + $0 }
        }
        return lines
    }
}
