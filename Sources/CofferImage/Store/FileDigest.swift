import CofferCore
import Crypto
import Foundation

/// SHA-256 of files and byte strings, written `sha256:<hex>` as OCI digests are.
public enum FileDigest {
    public static func sha256(_ data: some DataProtocol) -> String {
        "sha256:" + Hex.encode(SHA256.hash(data: data))
    }

    /// Streams the file through SHA-256 in 1 MiB reads, so large root file systems never sit in memory.
    public static func sha256(file path: String) throws(CofferError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CofferError(FileSystem.exists(path) ? .system : .notFound, "cannot open \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
        } catch {
            throw CofferError(.system, "cannot read \(path)", cause: error as NSError)
        }
        return "sha256:" + Hex.encode(hasher.finalize())
    }
}
