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
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystem.error("cannot open \(path)") }
        defer { close(descriptor) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystem.error("cannot read \(path)")
            }
            if count == 0 { break }
            hasher.update(data: buffer[0..<count])
        }
        return "sha256:" + Hex.encode(hasher.finalize())
    }
}
