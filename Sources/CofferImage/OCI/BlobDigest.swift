import Crypto
import Foundation

/// A sha256 content digest (image-spec descriptor.md, "Digests"): `sha256:` and 64 lowercase hex
/// digits. The hex is checked before it becomes a file name, so a digest can never name a path
/// outside the blob directory.
struct BlobDigest: Equatable, CustomStringConvertible {
    let hex: String

    init(_ text: String) throws(OCIError) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "sha256", parts[1].utf8.count == 64,
              parts[1].utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
        else { throw .unsupportedDigest(text) }
        hex = String(parts[1])
    }

    init(hex: String) throws(OCIError) { try self.init("sha256:" + hex) }

    var description: String { "sha256:" + hex }

    /// Hashes a file in 1 MiB reads and checks its digest (and size, when known).
    static func verify(file path: String, against expected: BlobDigest, size: Int64?) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw OCIError.missingBlob(digest: expected.description, path: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var total: Int64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            total += Int64(chunk.count)
        }
        if let size, size != total {
            throw OCIError.sizeMismatch(blob: expected.description, expected: size, actual: total)
        }
        let actual = hexString(hasher.finalize())
        guard actual == expected.hex else {
            throw OCIError.digestMismatch(blob: expected.description, expected: expected.description, actual: "sha256:" + actual)
        }
    }

    /// Checks bytes already in memory.
    static func verify(data: Data, against expected: BlobDigest, size: Int64?) throws(OCIError) {
        if let size, size != Int64(data.count) {
            throw .sizeMismatch(blob: expected.description, expected: size, actual: Int64(data.count))
        }
        let actual = hexString(SHA256.hash(data: data))
        guard actual == expected.hex else {
            throw .digestMismatch(blob: expected.description, expected: expected.description, actual: "sha256:" + actual)
        }
    }

    private static func hexString(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
