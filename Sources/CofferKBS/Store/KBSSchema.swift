/// The broker's database schema, one list of migrations for both stores (SQLite and PostgreSQL),
/// each step written in the two dialects side by side so they cannot drift (decision 0036).
///
/// The version lives in `schema_version` (one row). A store opens a database by applying the
/// steps past its version in one transaction; a database whose version is *newer* than
/// `KBSSchema.version` was written by a later Coffer and is refused (`KBSSchemaError.newer`)
/// rather than read with a schema this broker does not know (a later column it would not fill,
/// a table whose meaning changed).
public enum KBSSchema {
    public enum Dialect: Sendable { case sqlite, postgres }

    /// A step to `version`: statements run in order, inside the opening transaction.
    struct Migration: Sendable {
        var version: Int
        var summary: String
        var sqlite: [String]
        var postgres: [String]
    }

    /// The version this broker writes and understands.
    public static var version: Int { migrations.last?.version ?? 0 }

    static let migrations: [Migration] = [
        Migration(
            version: 1, summary: "resources, policies and the audit log",
            // IF NOT EXISTS: a SQLite store made before versioning (decision 0030's image_id
            // included or not) is adopted as version 1; `SQLiteStore` adds a missing image_id.
            sqlite: [
                "CREATE TABLE IF NOT EXISTS resources (path TEXT PRIMARY KEY, sealed BLOB NOT NULL, updated REAL NOT NULL)",
                "CREATE TABLE IF NOT EXISTS policies (name TEXT PRIMARY KEY, json TEXT NOT NULL)",
                """
                CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, session TEXT NOT NULL,
                  tee TEXT NOT NULL, claims_digest TEXT NOT NULL, action TEXT NOT NULL, allowed INTEGER NOT NULL,
                  reason TEXT NOT NULL, denial TEXT, image_id TEXT)
                """,
                "CREATE INDEX IF NOT EXISTS audit_session ON audit(session, id)",
            ],
            postgres: [
                "CREATE TABLE resources (path TEXT PRIMARY KEY, sealed BYTEA NOT NULL, updated DOUBLE PRECISION NOT NULL)",
                "CREATE TABLE policies (name TEXT PRIMARY KEY, json TEXT NOT NULL)",
                """
                CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, time DOUBLE PRECISION NOT NULL, session TEXT NOT NULL,
                  tee TEXT NOT NULL, claims_digest TEXT NOT NULL, action TEXT NOT NULL, allowed BOOLEAN NOT NULL,
                  reason TEXT NOT NULL, denial TEXT, image_id TEXT)
                """,
                "CREATE INDEX audit_session ON audit(session, id)",
            ]),
        Migration(
            version: 2, summary: "state shared by replicas: sessions and the sealed token signing key",
            // A SQLite broker is one process: it keeps sessions in memory and its signing key in
            // the KBS directory, so these tables stay empty there (one schema, one version).
            sqlite: [
                """
                CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, tee TEXT NOT NULL, hash TEXT NOT NULL, expiry REAL NOT NULL,
                  state TEXT NOT NULL, nonce TEXT, nonce_expiry REAL, attested TEXT, source TEXT NOT NULL, created REAL NOT NULL)
                """,
                "CREATE TABLE IF NOT EXISTS broker_keys (name TEXT PRIMARY KEY, sealed BLOB NOT NULL)",
            ],
            postgres: [
                """
                CREATE TABLE sessions (id TEXT PRIMARY KEY, tee TEXT NOT NULL, hash TEXT NOT NULL, expiry DOUBLE PRECISION NOT NULL,
                  state TEXT NOT NULL, nonce TEXT, nonce_expiry DOUBLE PRECISION, attested TEXT, source TEXT NOT NULL,
                  created DOUBLE PRECISION NOT NULL)
                """,
                "CREATE INDEX sessions_pending ON sessions(source, created) WHERE state <> 'attested'",
                "CREATE INDEX sessions_expiry ON sessions(expiry)",
                "CREATE TABLE broker_keys (name TEXT PRIMARY KEY, sealed BYTEA NOT NULL)",
            ]),
    ]

    /// The statements that take a database at `from` to `version`, or why not.
    static func steps(from current: Int, dialect: Dialect, database: String) throws(KBSSchemaError) -> [String] {
        guard current <= version else { throw .newer(database: database, found: current, understood: version) }
        guard current >= 0 else { throw .corrupt(database: database, detail: "schema_version is \(current)") }
        var statements: [String] = []
        for migration in migrations where migration.version > current {
            statements += dialect == .sqlite ? migration.sqlite : migration.postgres
        }
        if current == 0 {
            statements.append("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            statements.append("INSERT INTO schema_version (version) VALUES (\(version))")
        } else if current < version {
            statements.append("UPDATE schema_version SET version = \(version)")
        }
        return statements
    }
}

/// Why a database cannot be opened by this broker.
public enum KBSSchemaError: Error, CustomStringConvertible, Sendable, Equatable {
    case newer(database: String, found: Int, understood: Int)
    case corrupt(database: String, detail: String)

    public var description: String {
        switch self {
        case .newer(let database, let found, let understood):
            "\(database) has schema version \(found), newer than version \(understood) that this Coffer understands: "
                + "run the Coffer that wrote it (or a later one); this broker will not read or write it"
        case .corrupt(let database, let detail):
            "\(database): unreadable schema version (\(detail))"
        }
    }
}
