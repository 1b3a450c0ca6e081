import Crypto
import Foundation

/// Which database a broker uses: the KBS directory's SQLite file (the default, one broker), or
/// PostgreSQL shared by replicas (`--database postgres://…`, decision 0036). Both are one
/// `KBSStore`; the broker logic above them is the same.
public enum KBSDatabase: Sendable {
    case sqlite
    case postgres(PostgresDatabaseURL)

    /// An opened store with what the broker takes from it.
    public struct Opened: Sendable {
        public var store: any KBSStore
        /// SQLite: the KBS directory's `signing.key`. PostgreSQL: the key sealed in the database,
        /// the same for every replica.
        public var signingKey: P256.Signing.PrivateKey
        /// nil: sessions in this process. PostgreSQL: the shared table.
        public var sessions: (any SessionDirectory)?
        public var close: @Sendable () async -> Void
    }

    public func open(home: KBSHome, masterKey source: MasterKeySource, limits: SessionLimits = SessionLimits()) async throws -> Opened {
        try home.prepare()
        switch self {
        case .sqlite:
            let exists = FileManager.default.fileExists(atPath: home.databasePath)
            let store = try await SQLiteStore.open(path: home.databasePath, masterKey: try source.load(home: home, databaseExists: exists))
            let key: P256.Signing.PrivateKey
            do { key = try home.signingKey() } catch { await store.close(); throw error }
            return Opened(store: store, signingKey: key, sessions: nil, close: { await store.close() })
        case .postgres(let url):
            let store = try await PostgresStore.open(url, masterKey: try source.load(home: home, databaseExists: false), limits: limits)
            // Published for clients that pin the broker key (`coffer kbs client --kbs-key`).
            try? Data(store.signingKey.publicKey.pemRepresentation.utf8).write(to: URL(fileURLWithPath: home.signingPublicKeyPath), options: .atomic)
            return Opened(store: store, signingKey: store.signingKey, sessions: store, close: { await store.close() })
        }
    }
}
