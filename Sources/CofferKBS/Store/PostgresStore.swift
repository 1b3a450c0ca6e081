import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The KBS store in PostgreSQL (`coffer kbs serve --database postgres://…`), shared by any number
/// of broker replicas (decision 0036). The schema and its versions are `KBSSchema`'s, as for
/// SQLite; values are sealed exactly as `SQLiteStore` seals them (AES-256-GCM under the master
/// key, the path as AAD), so the database never holds a secret in the clear.
///
/// Nothing is cached: every policy and resource read goes to the database, so a change made
/// through one replica is what the next request at any replica sees. Every write is one
/// statement, acknowledged only once PostgreSQL committed it (`synchronous_commit` on, its
/// default). Audit rows are group-committed per replica (`AuditBatch`). Sessions live here too
/// (`PostgresStore+Sessions.swift`), and so does the token signing key, sealed (`signingKey`).
public final class PostgresStore: KBSStore {
    let client: BoundedPostgres
    let masterKey: SymmetricKey
    let limits: SessionLimits
    /// The broker key every replica signs tokens and resource responses with.
    public let signingKey: P256.Signing.PrivateKey
    private let runner: Task<Void, Never>
    private let audit: AuditBatch
    /// When this replica last swept dead sessions (`PostgresStore+Sessions.swift`).
    let lastSweep = Mutex<Double>(0)

    /// `pg_advisory_xact_lock` key ("Coffer" in ASCII): replicas starting together migrate once.
    static let migrationLock: Int64 = 0x436f_6666_6572
    static let signingKeyName = "signing"
    /// Each statement's bound: longer than any statement the broker runs takes on a live server,
    /// short enough that a client of a broker whose database is gone gets an answer.
    public static let defaultDeadline: Duration = .seconds(15)

    /// Connects, migrates (one transaction under an advisory lock) and loads the signing key: made
    /// and sealed by the replica that creates the schema, opened by every other. A database of a
    /// newer schema is refused (`KBSSchemaError.newer`), as is a master key that does not open it.
    public static func open(
        _ url: PostgresDatabaseURL, masterKey: SymmetricKey, limits: SessionLimits = SessionLimits(), deadline: Duration = PostgresStore.defaultDeadline
    ) async throws -> PostgresStore {
        let logger = { var logger = Logger(label: "coffer-kbs-postgres", factory: StandardErrorLogHandler.init); logger.logLevel = .critical; return logger }()
        // A first connection of its own, for the server's own words when it refuses (wrong
        // database, role or password): the pool would only retry, silently (`BoundedPostgres`).
        let probe = try await within(deadline, KBSStoreError("\(url): PostgreSQL did not answer within \(deadline) (is it up and reachable?)")) {
            do {
                return try await PostgresConnection.connect(configuration: url.probe, id: 0, logger: logger)
            } catch {
                throw Self.explain(error, url)
            }
        }
        try? await probe.close()
        let pool = PostgresClient(configuration: url.configuration, backgroundLogger: logger)
        let runner = Task { await pool.run() }
        let client = BoundedPostgres(client: pool, name: url.description, bound: DeadlineBound(deadline))
        do {
            let key = try await within(deadline, KBSStoreError("\(url): migrating did not finish within \(deadline) (another replica holding the migration lock, or the server unreachable)")) {
                try await prepare(pool, url: url, masterKey: masterKey, logger: logger)
            }
            return PostgresStore(client: client, runner: runner, masterKey: masterKey, signingKey: key, limits: limits)
        } catch {
            runner.cancel()
            throw Self.explain(error, url)
        }
    }

    /// Each statement's bound from now on (tests: a short one once the server is gone).
    var deadline: Duration {
        get { client.bound.value }
        set { client.bound.value = newValue }
    }

    private init(client: BoundedPostgres, runner: Task<Void, Never>, masterKey: SymmetricKey, signingKey: P256.Signing.PrivateKey, limits: SessionLimits) {
        self.client = client
        self.runner = runner
        self.masterKey = masterKey
        self.signingKey = signingKey
        self.limits = limits
        audit = AuditBatch { decisions in try await Self.insert(decisions, into: client) }
    }

    private static func prepare(_ client: PostgresClient, url: PostgresDatabaseURL, masterKey: SymmetricKey, logger: Logger) async throws -> P256.Signing.PrivateKey {
        try await client.withTransaction(logger: logger) { connection in
            _ = try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger).collect()
            var current = 0
            for name in try await connection.query("SELECT to_regclass('schema_version')::text", logger: logger).collect().decode(String?.self) where name != nil {
                current = -1
                for version in try await connection.query("SELECT version FROM schema_version", logger: logger).collect().decode(Int.self) {
                    current = version
                }
            }
            for statement in try KBSSchema.steps(from: current, dialect: .postgres, database: url.description) {
                _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
            }
            var sealed: ByteBuffer?
            for bytes in try await connection.query("SELECT sealed FROM broker_keys WHERE name = \(signingKeyName)", logger: logger).collect().decode(ByteBuffer.self) {
                sealed = bytes
            }
            guard let sealed else {
                /// Security: only the replica that creates the schema makes the key; a database
                /// that lost it is refused rather than given a new one (which would orphan every
                /// token and every guest pinning the old key).
                guard current == 0 else { throw KBSStoreError("\(url): the sealed token signing key is missing from broker_keys; restore the database") }
                let key = P256.Signing.PrivateKey()
                let box = try seal(Array(key.rawRepresentation), name: signingKeyName, masterKey: masterKey)
                _ = try await connection.query("INSERT INTO broker_keys (name, sealed) VALUES (\(signingKeyName), \(ByteBuffer(bytes: box)))", logger: logger).collect()
                return key
            }
            guard let raw = try? openSealed(Array(sealed.readableBytesView), name: signingKeyName, masterKey: masterKey),
                  let key = try? P256.Signing.PrivateKey(rawRepresentation: raw) else {
                throw KBSStoreError("\(url): the master key does not open this database's sealed signing key: it is not the key the database was created with")
            }
            return key
        }
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }

    // MARK: - Sealing (the same construction as SQLiteStore's)

    static func seal(_ value: [UInt8], name: String, masterKey: SymmetricKey) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(value, using: masterKey, authenticating: Array(name.utf8)).combined else {
            throw KBSStoreError("cannot seal \(name)")
        }
        return Array(combined)
    }

    /// Security: the name (a resource's path) is authenticated with the value, so a row copied to
    /// another path by someone who can write the database but lacks the key does not open.
    static func openSealed(_ sealed: [UInt8], name: String, masterKey: SymmetricKey) throws -> [UInt8] {
        Array(try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: masterKey, authenticating: Array(name.utf8)))
    }

    // MARK: - Resources and policies (read through)

    public func resource(_ path: String) async throws -> [UInt8]? {
        for sealed in try await client.query("SELECT sealed FROM resources WHERE path = \(path)").decode(ByteBuffer.self) {
            return try Self.openSealed(Array(sealed.readableBytesView), name: path, masterKey: masterKey)
        }
        return nil
    }

    public func putResource(_ path: String, _ value: [UInt8]) async throws {
        let sealed = ByteBuffer(bytes: try Self.seal(value, name: path, masterKey: masterKey))
        let now = Date().timeIntervalSince1970
        try await client.perform("""
            INSERT INTO resources (path, sealed, updated) VALUES (\(path), \(sealed), \(now))
            ON CONFLICT (path) DO UPDATE SET sealed = EXCLUDED.sealed, updated = EXCLUDED.updated
            """)
    }

    public func deleteResource(_ path: String) async throws -> Bool {
        try await !client.query("DELETE FROM resources WHERE path = \(path) RETURNING path").isEmpty
    }

    public func attestationPolicy() async throws -> AttestationPolicy { try await policy("attestation") ?? AttestationPolicy() }
    public func setAttestationPolicy(_ policy: AttestationPolicy) async throws { try await setPolicy("attestation", policy) }
    public func resourcePolicy() async throws -> ResourcePolicy { try await policy("resource") ?? ResourcePolicy() }
    public func setResourcePolicy(_ policy: ResourcePolicy) async throws { try await setPolicy("resource", policy) }

    private func policy<T: Decodable>(_ name: String) async throws -> T? {
        for json in try await client.query("SELECT json FROM policies WHERE name = \(name)").decode(String.self) {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        }
        return nil
    }

    private func setPolicy(_ name: String, _ value: some Encodable) async throws {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        try await client.perform("INSERT INTO policies (name, json) VALUES (\(name), \(json)) ON CONFLICT (name) DO UPDATE SET json = EXCLUDED.json")
    }

    // MARK: - The audit log

    /// Returns once the decision is committed (group-committed with this replica's concurrent ones).
    public func record(_ decision: Decision) async throws { try await audit.record(decision) }

    static func insert(_ decisions: [Decision], into client: BoundedPostgres) async throws {
        guard !decisions.isEmpty else { return }
        var binds = PostgresBindings(capacity: decisions.count * 9)
        var rows: [String] = []
        for (i, d) in decisions.enumerated() {
            let denial = try d.denial.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            binds.append(d.time.timeIntervalSince1970)
            binds.append(d.session)
            binds.append(d.tee)
            binds.append(d.claimsDigest)
            binds.append(d.action)
            binds.append(d.allowed)
            binds.append(d.reason)
            binds.append(denial)
            binds.append(d.imageID)
            rows.append("(" + (1...9).map { "$\(i * 9 + $0)" }.joined(separator: ", ") + ")")
        }
        try await client.perform(PostgresQuery(
            unsafeSQL: "INSERT INTO audit (time, session, tee, claims_digest, action, allowed, reason, denial, image_id) VALUES " + rows.joined(separator: ", "),
            binds: binds))
    }

    public func decisions(session: String?, limit: Int) async throws -> [Decision] {
        let rows = if let session {
            try await client.query("""
                SELECT time, session, tee, claims_digest, action, allowed, reason, denial, image_id FROM audit
                WHERE session = \(session) ORDER BY id DESC LIMIT \(limit)
                """)
        } else {
            try await client.query("""
                SELECT time, session, tee, claims_digest, action, allowed, reason, denial, image_id FROM audit ORDER BY id DESC LIMIT \(limit)
                """)
        }
        var decisions: [Decision] = []
        for (time, session, tee, digest, action, allowed, reason, denial, image) in try rows.decode((Double, String, String, String, String, Bool, String, String?, String?).self) {
            decisions.append(Decision(time: Date(timeIntervalSince1970: time), session: session, tee: tee, claimsDigest: digest, action: action,
                                      allowed: allowed, reason: reason,
                                      denial: denial.flatMap { try? JSONDecoder().decode(Denial.self, from: Data($0.utf8)) }, imageID: image))
        }
        return decisions
    }

    /// The stored schema version (`KBSSchema`).
    public func schemaVersion() async throws -> Int {
        for version in try await client.query("SELECT version FROM schema_version").decode(Int.self) { return version }
        return 0
    }

    /// PostgreSQL's errors print as a fixed text (to keep queries out of logs); at open, the
    /// server's own message is what the operator needs, and it holds no secret of ours.
    static func explain(_ error: any Error, _ url: PostgresDatabaseURL) -> any Error {
        if error is KBSSchemaError || error is KBSStoreError { return error }
        if let transaction = error as? PostgresTransactionError, let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
            return explain(inner, url)
        }
        if let psql = error as? PSQLError {
            let message = psql.serverInfo?[.message].map { "the server says: \($0)" } ?? "\(psql.code)\(psql.underlying.map { " (\($0))" } ?? "")"
            return KBSStoreError("\(url): cannot open the broker database: \(message)")
        }
        return KBSStoreError("\(url): cannot open the broker database: \(error)")
    }
}
