import CofferCore
import Foundation
import Testing
@testable import CofferImage

/// `VerityTree.format` against the real `veritysetup format` (cryptsetup 2.6) on data made here:
/// same root hash and a byte-identical hash file, for tree shapes from no levels to four.
@Suite struct VerityTreeTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        var blocks: Int
        var dataBlockSize = 4096
        var hashBlockSize = 4096
        var saltSize = 32
        var testDescription: String { "\(blocks)x\(dataBlockSize) hash \(hashBlockSize) salt \(saltSize)" }
    }

    static let shapes: [Shape] = [
        Shape(blocks: 1),  // no hash levels: root = hash of the block
        Shape(blocks: 2),
        Shape(blocks: 127),
        Shape(blocks: 128),  // exactly one full leaf block
        Shape(blocks: 129),  // two leaf blocks + one top block
        Shape(blocks: 769, saltSize: 0),  // 3 MiB + 1 block, no salt
        Shape(blocks: 300, dataBlockSize: 512, hashBlockSize: 512, saltSize: 5),  // 3 levels (16 per block)
        Shape(blocks: 4097, dataBlockSize: 512, hashBlockSize: 512, saltSize: 256),  // 4 levels
        Shape(blocks: 200, dataBlockSize: 4096, hashBlockSize: 1024),
    ]

    @Test(arguments: shapes)
    func matchesVeritysetup(shape: Shape) throws {
        let scratch = try TestScratch("verity")
        defer { scratch.remove() }
        let data = scratch.file("data")
        try Data(randomTestBytes(shape.blocks * shape.dataBlockSize)).write(to: URL(fileURLWithPath: data))
        let salt = randomTestBytes(shape.saltSize)
        let uuid = randomTestBytes(16)

        let reference = try veritysetupFormat(
            data: data, hash: scratch.file("reference"), salt: salt, uuid: uuid,
            dataBlockSize: shape.dataBlockSize, hashBlockSize: shape.hashBlockSize)
        let parameters = VerityParameters(
            salt: salt, uuid: uuid, dataBlockSize: shape.dataBlockSize, hashBlockSize: shape.hashBlockSize)
        let result = try VerityTree.format(dataPath: data, hashPath: scratch.file("coffer"), parameters: parameters)

        #expect(Hex.encode(result.rootHash) == reference)
        let ours = try Data(contentsOf: URL(fileURLWithPath: scratch.file("coffer")))
        let theirs = try Data(contentsOf: URL(fileURLWithPath: scratch.file("reference")))
        #expect(ours.count == theirs.count)
        #expect(ours == theirs, "hash files differ at byte \(firstDifference(ours, theirs) ?? -1)")
        #expect(Int64(ours.count) == result.hashFileSize)
        #expect(result.dataBlocks == Int64(shape.blocks))

        // Our verify accepts veritysetup's file, and veritysetup's verify accepts ours.
        try VerityTree.verify(dataPath: data, hashPath: scratch.file("reference"), rootHash: result.rootHash)
        try RealTool.check("veritysetup", ["verify", data, scratch.file("coffer"), reference])
    }

    @Test func verifyDetectsAFlippedDataByte() throws {
        let scratch = try TestScratch("verity")
        defer { scratch.remove() }
        let (data, hash, result) = try formatted(blocks: 300, in: scratch)
        try flipByte(in: data, at: 200 * 4096 + 17)
        #expect(throws: VerityError.treeMismatch(
            path: hash, region: "hash tree level 0 block 1 (data blocks 128...255)")) {
            try VerityTree.verify(dataPath: data, hashPath: hash, rootHash: result.rootHash)
        }
    }

    @Test func verifyDetectsAFlippedHashByte() throws {
        let scratch = try TestScratch("verity")
        defer { scratch.remove() }
        let (data, hash, result) = try formatted(blocks: 300, in: scratch)
        // Level 1 (the top) is block 1; level 0 starts at block 2.
        try flipByte(in: hash, at: 4096 + 40)
        #expect(throws: VerityError.treeMismatch(path: hash, region: "hash tree level 1 block 0 (data blocks 0...299)")) {
            try VerityTree.verify(dataPath: data, hashPath: hash, rootHash: result.rootHash)
        }
        try flipByte(in: hash, at: 4096 + 40)
        try flipByte(in: hash, at: 100)  // inside the salt field of the superblock
        #expect(throws: VerityError.self) {
            try VerityTree.verify(dataPath: data, hashPath: hash, rootHash: result.rootHash)
        }
    }

    /// A hostile superblock (any byte of the header block changed) is refused, never trusted and
    /// never a crash: its parameters could otherwise steer the recomputation. With the image's
    /// parameters given, even the UUID (which the root hash does not cover) must match.
    @Test func verifyRefusesEveryAlteredHeaderByte() throws {
        let scratch = try TestScratch("verity")
        defer { scratch.remove() }
        let (data, hash, result) = try formatted(blocks: 130, in: scratch)
        let parameters = VerityParameters(salt: result.salt, uuid: result.uuid)
        let original = try Data(contentsOf: URL(fileURLWithPath: hash))
        for offset in stride(from: 0, to: 4096, by: 7) {
            var bytes = original
            bytes[offset] ^= UInt8(1 << (offset % 8))
            try bytes.write(to: URL(fileURLWithPath: hash))
            #expect(throws: VerityError.self, "byte \(offset)") {
                try VerityTree.verify(dataPath: data, hashPath: hash, rootHash: result.rootHash, parameters: parameters)
            }
        }
    }

    @Test func verifyDetectsAnotherRootHash() throws {
        let scratch = try TestScratch("verity")
        defer { scratch.remove() }
        let (data, hash, result) = try formatted(blocks: 3, in: scratch)
        var wrong = result.rootHash
        wrong[0] ^= 1
        #expect(throws: VerityError.rootHashMismatch(expected: Hex.encode(wrong), computed: Hex.encode(result.rootHash))) {
            try VerityTree.verify(dataPath: data, hashPath: hash, rootHash: wrong)
        }
        #expect(try VerityTree.verify(dataPath: data, hashPath: hash, rootHash: result.rootHash) == result)
        let parameters = VerityParameters(salt: result.salt, uuid: result.uuid)
        #expect(try VerityTree.verify(dataPath: data, hashPath: hash, rootHash: result.rootHash, parameters: parameters) == result)
    }

    @Test func rejectsDataThatIsNotWholeBlocks() throws {
        let scratch = try TestScratch("verity")
        defer { scratch.remove() }
        let data = scratch.file("data")
        try Data(randomTestBytes(4096 + 100)).write(to: URL(fileURLWithPath: data))
        let parameters = VerityParameters(salt: [1], uuid: randomTestBytes(16))
        #expect(throws: VerityError.sizeNotBlockMultiple(path: data, size: 4196, blockSize: 4096)) {
            try VerityTree.format(dataPath: data, hashPath: scratch.file("hash"), parameters: parameters)
        }
        try Data().write(to: URL(fileURLWithPath: data))
        #expect(throws: VerityError.emptyData(path: data)) {
            try VerityTree.format(dataPath: data, hashPath: scratch.file("hash"), parameters: parameters)
        }
        #expect(throws: VerityError.invalidParameters("UUID is 3 bytes, expected 16")) {
            try VerityTree.format(
                dataPath: data, hashPath: scratch.file("hash"), parameters: VerityParameters(salt: [], uuid: [1, 2, 3]))
        }
    }

    @Test func geometryPlacesTheTopLevelFirst() {
        let geometry = VerityGeometry(dataBlocks: 129, dataBlockSize: 4096, hashBlockSize: 4096)
        #expect(geometry.digestsPerBlock == 128)
        #expect(geometry.levels == [.init(firstBlock: 2, blockCount: 2), .init(firstBlock: 1, blockCount: 1)])
        #expect(geometry.hashFileSize == 4 * 4096)
        #expect(VerityGeometry(dataBlocks: 1, dataBlockSize: 4096, hashBlockSize: 4096).levels.isEmpty)
    }

    // MARK: - Helpers

    private func veritysetupFormat(
        data: String, hash: String, salt: [UInt8], uuid: [UInt8], dataBlockSize: Int, hashBlockSize: Int
    ) throws -> String {
        let output = try RealTool.check("veritysetup", [
            "format", data, hash, "--salt=\(salt.isEmpty ? "-" : Hex.encode(salt))", "--uuid=\(uuidString(uuid))",
            "--data-block-size=\(dataBlockSize)", "--hash-block-size=\(hashBlockSize)",
        ])
        let line = output.split(separator: "\n").first { $0.hasPrefix("Root hash:") }
        return line.map { $0.dropFirst("Root hash:".count).trimmingCharacters(in: .whitespaces) } ?? "none in: \(output)"
    }

    private func formatted(blocks: Int, in scratch: TestScratch) throws -> (String, String, VerityResult) {
        let data = scratch.file("data")
        try Data(randomTestBytes(blocks * 4096)).write(to: URL(fileURLWithPath: data))
        let parameters = VerityParameters(salt: randomTestBytes(32), uuid: randomTestBytes(16))
        let result = try VerityTree.format(dataPath: data, hashPath: scratch.file("hash"), parameters: parameters)
        try VerityTree.verify(dataPath: data, hashPath: scratch.file("hash"), rootHash: result.rootHash)
        return (data, scratch.file("hash"), result)
    }

    private func flipByte(in path: String, at offset: Int) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[offset] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    private func uuidString(_ bytes: [UInt8]) -> String {
        let hex = Hex.encode(bytes)
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(hex.dropFirst(range.lowerBound).prefix(range.count))
        }
        return parts.joined(separator: "-")
    }

    private func firstDifference(_ a: Data, _ b: Data) -> Int? {
        zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset
    }
}
