import Crypto
import Foundation
import NIOCore
import SQLiteNIO
import Synchronization

/// The KBS store in SQLite (`$COFFER_HOME/kbs/kbs.sqlite`): WAL with `synchronous=FULL`, so a
/// write that returned survives `kill -9` and power loss; every write is one statement, hence
/// atomic. Resource values are sealed with AES-256-GCM under the master key, the path as AAD.
public final class SQLiteStore: KBSStore {
    let connection: SQLiteConnection
    let masterKey: SymmetricKey
    /// Policies are read on every request: kept in memory, written through.
    private let policies = Mutex<(AttestationPolicy?, ResourcePolicy?)>((nil, nil))
    /// Sealed resource values read so far (still encrypted: opened per request). All writes go
    /// through this process, so the cache is exact; `generation` stops a read that raced a
    /// write from caching the value the write replaced.
    private let sealedCache = Mutex<(values: [String: [UInt8]], generation: UInt64)>(([:], 0))
    private let audit: AuditBatch

    public static func open(path: String, masterKey: SymmetricKey) async throws -> SQLiteStore {
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        do {
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON"] {
                _ = try await connection.query(pragma)
            }
            try await migrate(connection, database: path)
            // Added with decision 0030: a store made before it gains the column (older rows: NULL).
            let columns = try await connection.query("PRAGMA table_info(audit)").compactMap { $0.column("name")?.string }
            if !columns.contains("image_id") { _ = try await connection.query("ALTER TABLE audit ADD COLUMN image_id TEXT") }
        } catch {
            try? await connection.close()
            throw error
        }
        return SQLiteStore(connection: connection, masterKey: masterKey)
    }

    /// Applies `KBSSchema`'s steps past the stored version in one transaction (`BEGIN IMMEDIATE`:
    /// two processes opening one file cannot both migrate); a newer database is refused.
    static func migrate(_ connection: SQLiteConnection, database: String) async throws {
        _ = try await connection.query("BEGIN IMMEDIATE")
        do {
            let versioned = try await !connection.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").isEmpty
            let current = versioned ? Int(try await connection.query("SELECT version FROM schema_version").first?.column("version")?.integer ?? -1) : 0
            for statement in try KBSSchema.steps(from: current, dialect: .sqlite, database: database) {
                _ = try await connection.query(statement)
            }
            _ = try await connection.query("COMMIT")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
    }

    /// The stored schema version (`KBSSchema`).
    public func schemaVersion() async throws -> Int {
        Int(try await connection.query("SELECT version FROM schema_version").first?.column("version")?.integer ?? 0)
    }

    init(connection: SQLiteConnection, masterKey: SymmetricKey) {
        self.connection = connection
        self.masterKey = masterKey
        audit = AuditBatch { decisions in try await Self.insert(decisions, into: connection) }
    }

    public func close() async { try? await connection.close() }

    public func resource(_ path: String) async throws -> [UInt8]? {
        let (cached, generation) = sealedCache.withLock { ($0.values[path], $0.generation) }
        let sealed: [UInt8]
        if let cached { sealed = cached } else {
            let rows = try await connection.query("SELECT sealed FROM resources WHERE path = ?", [.text(path)])
            guard let buffer = rows.first?.column("sealed")?.blob else { return nil }
            sealed = Array(buffer.readableBytesView)
            sealedCache.withLock { cache in if cache.generation == generation { cache.values[path] = sealed } }
        }
        /// Security: the path is authenticated with the value, so a row copied to another path
        /// (by someone with write access to the file but not the key) does not decrypt.
        let box = try AES.GCM.SealedBox(combined: sealed)
        return Array(try AES.GCM.open(box, using: masterKey, authenticating: Array(path.utf8)))
    }

    public func putResource(_ path: String, _ value: [UInt8]) async throws {
        guard let sealed = try AES.GCM.seal(value, using: masterKey, authenticating: Array(path.utf8)).combined else {
            throw CocoaError(.coderInvalidValue)
        }
        invalidate(path)
        _ = try await connection.query("INSERT OR REPLACE INTO resources (path, sealed, updated) VALUES (?, ?, ?)",
                                       [.text(path), .blob(ByteBuffer(bytes: sealed)), .float(Date().timeIntervalSince1970)])
        invalidate(path)
    }

    public func deleteResource(_ path: String) async throws -> Bool {
        invalidate(path)
        let rows = try await connection.query("DELETE FROM resources WHERE path = ? RETURNING path", [.text(path)])
        invalidate(path)
        return !rows.isEmpty
    }

    /// Before and after a write: a read in between either sees the old generation (and does not
    /// cache) or runs after the write (and caches the new value).
    private func invalidate(_ path: String) {
        sealedCache.withLock { cache in
            cache.values[path] = nil
            cache.generation &+= 1
        }
    }

    public func attestationPolicy() async throws -> AttestationPolicy {
        if let cached = policies.withLock({ $0.0 }) { return cached }
        let loaded: AttestationPolicy = try await policy("attestation") ?? AttestationPolicy()
        policies.withLock { $0.0 = loaded }
        return loaded
    }

    public func setAttestationPolicy(_ policy: AttestationPolicy) async throws {
        try await setPolicy("attestation", policy)
        policies.withLock { $0.0 = policy }
    }

    public func resourcePolicy() async throws -> ResourcePolicy {
        if let cached = policies.withLock({ $0.1 }) { return cached }
        let loaded: ResourcePolicy = try await policy("resource") ?? ResourcePolicy()
        policies.withLock { $0.1 = loaded }
        return loaded
    }

    public func setResourcePolicy(_ policy: ResourcePolicy) async throws {
        try await setPolicy("resource", policy)
        policies.withLock { $0.1 = policy }
    }

    private func policy<T: Decodable>(_ name: String) async throws -> T? {
        let rows = try await connection.query("SELECT json FROM policies WHERE name = ?", [.text(name)])
        guard let json = rows.first?.column("json")?.string else { return nil }
        return try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    private func setPolicy(_ name: String, _ value: some Encodable) async throws {
        let json = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        _ = try await connection.query("INSERT OR REPLACE INTO policies (name, json) VALUES (?, ?)", [.text(name), .text(json)])
    }

    /// Returns once the decision is durable (group-committed with concurrent ones).
    public func record(_ decision: Decision) async throws { try await audit.record(decision) }

    static func insert(_ decisions: [Decision], into connection: SQLiteConnection) async throws {
        guard !decisions.isEmpty else { return }
        var binds: [SQLiteData] = []
        binds.reserveCapacity(decisions.count * 9)
        for d in decisions {
            let denial = try d.denial.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            binds += [.float(d.time.timeIntervalSince1970), .text(d.session), .text(d.tee), .text(d.claimsDigest), .text(d.action),
                      .integer(d.allowed ? 1 : 0), .text(d.reason), denial.map { .text($0) } ?? .null, d.imageID.map { .text($0) } ?? .null]
        }
        let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: decisions.count).joined(separator: ", ")
        _ = try await connection.query(
            "INSERT INTO audit (time, session, tee, claims_digest, action, allowed, reason, denial, image_id) VALUES \(rows)", binds)
    }

    public func decisions(session: String?, limit: Int) async throws -> [Decision] {
        let rows: [SQLiteRow]
        let columns = "time, session, tee, claims_digest, action, allowed, reason, denial, image_id"
        if let session {
            rows = try await connection.query("SELECT \(columns) FROM audit WHERE session = ? ORDER BY id DESC LIMIT ?", [.text(session), .integer(limit)])
        } else {
            rows = try await connection.query("SELECT \(columns) FROM audit ORDER BY id DESC LIMIT ?", [.integer(limit)])
        }
        return rows.map { row in
            Decision(time: Date(timeIntervalSince1970: row.column("time")?.double ?? 0), session: row.column("session")?.string ?? "",
                     tee: row.column("tee")?.string ?? "", claimsDigest: row.column("claims_digest")?.string ?? "",
                     action: row.column("action")?.string ?? "", allowed: row.column("allowed")?.integer == 1,
                     reason: row.column("reason")?.string ?? "",
                     denial: row.column("denial")?.string.flatMap { try? JSONDecoder().decode(Denial.self, from: Data($0.utf8)) },
                     imageID: row.column("image_id")?.string)
        }
    }

    /// `PRAGMA integrity_check` — "ok" for a sound database.
    public func integrityCheck() async throws -> String {
        try await connection.query("PRAGMA integrity_check").first?.column("integrity_check")?.string ?? ""
    }
}
