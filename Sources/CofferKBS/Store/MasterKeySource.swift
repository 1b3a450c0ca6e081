import CofferCore
import Crypto
import Foundation

/// Where the master key (32 bytes that seal every resource at rest) comes from. It is kept apart
/// from the database on purpose: a copy of the database without it yields no secret (decision 0036).
/// In production give each broker replica the same key from a secret store, mounted as a file
/// readable only by the broker (`--master-key FILE`) or passed in the environment
/// (`COFFER_KBS_MASTER_KEY`, 64 hex digits); never store it in the database or beside its backups.
public enum MasterKeySource: Sendable, Equatable {
    /// `$COFFER_HOME/kbs/master.key`, created on first start (a single SQLite broker).
    case home
    /// `--master-key FILE`: 32 raw bytes (or 64 hex digits), created 0600 if absent.
    case file(String)
    /// `COFFER_KBS_MASTER_KEY`: 64 hex digits.
    case environment(String)

    public static let environmentVariable = "COFFER_KBS_MASTER_KEY"

    /// `--master-key` if given, else the environment variable if set, else the KBS directory.
    public static func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> MasterKeySource {
        if let flag { return .file(flag) }
        if let value = environment[environmentVariable] { return .environment(value) }
        return .home
    }

    /// The key. `databaseExists` says a SQLite file is already there: a missing key is then
    /// refused (a new one would orphan every stored secret). A PostgreSQL database checks the key
    /// itself (its sealed signing key must open, `PostgresStore.open`).
    public func load(home: KBSHome, databaseExists: Bool) throws -> SymmetricKey {
        switch self {
        case .home:
            return try home.masterKey()
        case .file(let path):
            if !FileManager.default.fileExists(atPath: path), databaseExists {
                throw KBSHomeError("\(home.databasePath) exists but the master key \(path) is missing: restore it (a new one cannot decrypt the stored resources)")
            }
            let bytes = try KBSHome.readOrCreate(path) { Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }) }
            if bytes.count == 32 { return SymmetricKey(data: bytes) }
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let key = Self.hexKey(text) else { throw KBSHomeError("master key \(path) is \(bytes.count) bytes: expected 32 raw bytes or 64 hex digits") }
            return key
        case .environment(let value):
            guard let key = Self.hexKey(value.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw KBSHomeError("\(Self.environmentVariable) is not 64 hex digits (a 32-byte key)")
            }
            return key
        }
    }

    static func hexKey(_ text: String) -> SymmetricKey? {
        guard let bytes = Hex.decode(text), bytes.count == 32 else { return nil }
        return SymmetricKey(data: bytes)
    }
}
