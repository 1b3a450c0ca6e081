import Crypto
import Foundation

/// The KBS's directory (`$COFFER_HOME/kbs`, 0700) and its key files, created on first start:
/// `master.key` (32 random bytes, 0600, seals resources at rest), `signing.key` (P-256 PKCS#8
/// PEM, 0600, signs tokens and responses) and `signing.pub`.
public struct KBSHome: Sendable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    public var databasePath: String { directory + "/kbs.sqlite" }
    public var signingPublicKeyPath: String { directory + "/signing.pub" }

    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    public var masterKeyPath: String { directory + "/master.key" }

    /// The master key, created on first start. Security: if the database exists but the key does
    /// not, a new key would silently orphan every stored secret — refuse instead.
    public func masterKey() throws -> SymmetricKey {
        let path = masterKeyPath
        if !FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: databasePath) {
            throw KBSHomeError("\(databasePath) exists but \(path) is missing: restore the master key (a new one cannot decrypt the stored resources)")
        }
        let bytes = try Self.readOrCreate(path) { Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }) }
        guard bytes.count == 32 else { throw KBSHomeError("\(path) is \(bytes.count) bytes, not a 32-byte key") }
        return SymmetricKey(data: bytes)
    }

    public func signingKey() throws -> P256.Signing.PrivateKey {
        let path = directory + "/signing.key"
        let pem = try Self.readOrCreate(path) { Data(P256.Signing.PrivateKey().pemRepresentation.utf8) }
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: String(decoding: pem, as: UTF8.self)) else {
            throw KBSHomeError("\(path) is not a P-256 private key in PEM")
        }
        try Data(key.publicKey.pemRepresentation.utf8).write(to: URL(fileURLWithPath: signingPublicKeyPath), options: .atomic)
        return key
    }

    /// Reads the file, or creates it with O_EXCL and mode 0600 (fsynced) if it does not exist.
    static func readOrCreate(_ path: String, make: () -> Data) throws -> Data {
        if let existing = FileManager.default.contents(atPath: path) { return existing }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST, let existing = FileManager.default.contents(atPath: path) { return existing }
            throw KBSHomeError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let data = make()
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else { throw KBSHomeError("cannot write \(path): \(String(cString: strerror(errno)))") }
        return data
    }
}

public struct KBSHomeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
