import CofferCore
import Foundation
import Testing

@Suite struct SHA256DigestTests {
    /// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
    @Test func matchesTheNISTExamples() {
        #expect(Hex.encode(SHA256Digest.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Hex.encode(SHA256Digest.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            Hex.encode(SHA256Digest.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            Hex.encode(SHA256Digest.hash([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the 55/56/64-byte padding boundaries, fed in uneven pieces.
    @Test func piecewiseUpdatesEqualOneShotAcrossBlockBoundaries() {
        let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 299] {
            let prefix = Array(message.prefix(length))
            var hasher = SHA256Digest()
            var index = 0, step = 1
            while index < prefix.count {
                let end = min(prefix.count, index + step)
                hasher.update(prefix[index..<end])
                index = end
                step = step * 3 % 71 + 1
            }
            #expect(hasher.finalize() == SHA256Digest.hash(prefix), "length \(length)")
        }
    }

    /// The reference implementation on this machine agrees.
    @Test func agreesWithSha256sum() throws {
        let message = (0..<100_003).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let path = NSTemporaryDirectory() + "/coffer-sha256-\(getpid())"
        try Data(message).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.split(separator: " ").first.map(String.init) == Hex.encode(SHA256Digest.hash(message)))
    }
}
