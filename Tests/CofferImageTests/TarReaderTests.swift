@testable import CofferImage
import Foundation
import Testing

/// Damaged archives are refused with an error that says what is wrong, and the tar reader's
/// field decoding holds on the edge cases of the format.
@Suite("Tar reading of damaged archives and header fields")
struct TarReaderTests {
    private func makeTar(_ scratch: ArchiveScratch, gzip: Bool) throws -> String {
        try scratch.write("src/big.bin", String(repeating: "0123456789abcdef", count: 40_000))
        try scratch.write("src/small.txt", "small\n")
        let name = gzip ? "a.tar.gz" : "a.tar"
        try ArchiveTool.run("tar", [gzip ? "-czf" : "-cf", scratch.file(name), "-C", scratch.file("src"), "."])
        return scratch.file(name)
    }

    private func flipBytes(_ path: String, at offset: Int, count: Int) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        for i in offset..<(offset + count) { data[i] ^= 0x5A }
        try data.write(to: URL(fileURLWithPath: path))
    }

    private func extractError(_ archive: String, _ scratch: ArchiveScratch) throws -> ArchiveError? {
        let root = try scratch.directory("root-\(UUID().uuidString)")
        return #expect(throws: ArchiveError.self) {
            try TarExtractor(root: root).extract(archivePath: archive)
        }
    }

    @Test("a gzip archive with bytes flipped in the middle")
    func corruptGzip() throws {
        let scratch = try ArchiveScratch()
        let archive = try makeTar(scratch, gzip: true)
        let size = try #require(ArchiveFileStatus(archive)).info.st_size
        try flipBytes(archive, at: Int(size) / 2, count: 8)
        let error = try extractError(archive, scratch)
        #expect(error?.description.hasPrefix("corrupt gzip data in \(archive): ") == true, "\(String(describing: error))")
        #expect(error?.cofferError.code == .invalidInput)
    }

    @Test("a gzip archive cut short (inside its trailer, after all the tar data)")
    func truncatedGzip() throws {
        let scratch = try ArchiveScratch()
        let archive = try makeTar(scratch, gzip: true)
        let size = try #require(ArchiveFileStatus(archive)).info.st_size
        try FileHandle(forWritingAtPath: archive).map { try $0.truncate(atOffset: UInt64(size) - 4); try $0.close() }
        let error = try extractError(archive, scratch)
        #expect(error?.description.contains("corrupt gzip data in \(archive): unexpected end") == true, "\(String(describing: error))")
    }

    @Test("a tar archive cut short, inside a member and at a block boundary", arguments: [300_000, 512 * 3])
    func truncatedTar(length: UInt64) throws {
        let scratch = try ArchiveScratch()
        let archive = try makeTar(scratch, gzip: false)
        try FileHandle(forWritingAtPath: archive).map { try $0.truncate(atOffset: length); try $0.close() }
        let error = try extractError(archive, scratch)
        guard case .truncated? = error else {
            Issue.record("expected a truncated-archive error, got \(String(describing: error))")
            return
        }
        #expect(error?.description.hasPrefix("truncated archive \(archive)") == true)
    }

    @Test("a header whose checksum does not match")
    func badChecksum() throws {
        let scratch = try ArchiveScratch()
        let archive = try makeTar(scratch, gzip: false)
        try flipBytes(archive, at: 2, count: 1)  // inside the first header's name field
        let error = try extractError(archive, scratch)
        #expect(error == .badChecksum(archive: archive, offset: 0))
    }

    @Test("zstd and xz archives are named as unsupported")
    func otherCompressions() throws {
        let scratch = try ArchiveScratch()
        _ = try makeTar(scratch, gzip: false)
        try ArchiveTool.run("zstd", ["-q", "a.tar", "-o", "a.tar.zst"], in: scratch.path)
        let error = try extractError(scratch.file("a.tar.zst"), scratch)
        #expect(error == .unsupportedCompression(archive: scratch.file("a.tar.zst"), format: "zstd"))
    }

    @Test("a file that is not an archive at all")
    func notAnArchive() throws {
        let scratch = try ArchiveScratch()
        try scratch.write("notes.txt", String(repeating: "not a tar header. ", count: 100))
        let error = try extractError(scratch.file("notes.txt"), scratch)
        #expect(error == .badChecksum(archive: scratch.file("notes.txt"), offset: 0))
    }

    /// Hostile bytes anywhere in the headers must end in an error or a tree inside the root,
    /// never in a trap (overflow, out-of-bounds read) that would kill the builder.
    @Test("a thousand archives with random bytes changed in their headers")
    func mutatedHeaders() throws {
        let scratch = try ArchiveScratch()
        try ArchiveTool.python("""
            import tarfile, io
            with tarfile.open("seed.tar", "w", format=tarfile.PAX_FORMAT) as t:
                for name in ["a" * 150 + "/file", "dir/", "link"]:
                    i = tarfile.TarInfo(name.rstrip("/")); i.mtime = 1.5; i.size = 0
                    if name.endswith("/"): i.type = tarfile.DIRTYPE
                    if name == "link": i.type = tarfile.SYMTYPE; i.linkname = "dir/" + "b" * 120
                    t.addfile(i)
            """, in: scratch.path)
        let seed = try Data(contentsOf: URL(fileURLWithPath: scratch.file("seed.tar")))
        let headerBytes = min(seed.count, 512 * 8)
        var random = SystemRandomNumberGenerator()
        var outcomes = (ok: 0, refused: 0)
        for round in 0..<1000 {
            var data = seed
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<headerBytes, using: &random)
                data[at] = UInt8.random(in: 0...255, using: &random)
            }
            // Keep the checksums right half the time so that the fields behind them are reached.
            if round % 2 == 0 { data = Self.fixingChecksums(data) }
            let archive = scratch.file("m.tar")
            try data.write(to: URL(fileURLWithPath: archive))
            let root = scratch.file("box/root")
            try? FileManager.default.removeItem(atPath: scratch.file("box"))
            try scratch.directory("box/root")
            do {
                try TarExtractor(root: root).extract(archivePath: archive)
                outcomes.ok += 1
            } catch is ArchiveError {
                outcomes.refused += 1
            }
            #expect(archiveListing(scratch.file("box")) == ["root"])
        }
        #expect(outcomes.ok + outcomes.refused == 1000)
        #expect(outcomes.refused > 0)
    }

    /// Recomputes each 512-byte header block's checksum (blocks that look like ustar headers).
    private static func fixingChecksums(_ data: Data) -> Data {
        var bytes = [UInt8](data)
        var offset = 0
        while offset + 512 <= bytes.count {
            if bytes[offset + 257..<offset + 262].elementsEqual("ustar".utf8) {
                for i in 148..<156 { bytes[offset + i] = 0x20 }
                let sum = bytes[offset..<offset + 512].reduce(0) { $0 + Int($1) }
                let text = Array(String(sum, radix: 8).utf8)
                let field = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - min(6, text.count)) + text.suffix(6) + [0, 0x20]
                bytes.replaceSubrange(offset + 148..<offset + 156, with: field)
            }
            offset += 512
        }
        return Data(bytes)
    }

    @Test("octal and base-256 numeric fields")
    func numericFields() throws {
        var block = [UInt8](repeating: 0, count: 512)
        block.replaceSubrange(124..<136, with: Array("00000001750 ".utf8))
        block[108] = 0x80
        block.replaceSubrange(112..<116, with: [0x01, 0x02, 0x03, 0x04])
        block[116] = 0xFF  // a negative base-256 value
        func number(_ offset: Int, _ count: Int, _ field: String) throws -> UInt64 {
            try block.withUnsafeBytes { raw throws(TarHeader.FieldError) in try TarHeader.number(raw, offset, count, field) }
        }
        #expect(try number(124, 12, "size") == 0o1750)
        #expect(try number(108, 8, "uid") == 0x0102_0304)
        #expect(throws: TarHeader.FieldError.badNumber(field: "gid")) { try number(116, 8, "gid") }
        block.replaceSubrange(100..<108, with: Array("07x5\0\0\0\0".utf8))
        #expect(throws: TarHeader.FieldError.badNumber(field: "mode")) { try number(100, 8, "mode") }
    }

    @Test("pax records: lengths, fractions, and malformed records")
    func paxRecords() throws {
        let body = Array("30 mtime=1700000000.123456789\n20 path=a/long/name\n12 uid=4242\n".utf8)
        let records = try PaxRecords(parsing: body)
        #expect(records.mtime == 1_700_000_000 && records.mtimeNanoseconds == 123_456_789)
        #expect(records.path == Array("a/long/name".utf8))
        #expect(records.uid == 4242)
        #expect(throws: PaxError.self) { try PaxRecords(parsing: Array("99 path=x\n".utf8)) }
        #expect(throws: PaxError.self) { try PaxRecords(parsing: Array("9 uid=-1\n".utf8)) }
        #expect(throws: PaxError.self) { try PaxRecords(parsing: Array("7 pathx\n".utf8)) }
    }

    @Test("member names: relative, normalized, never absolute or climbing")
    func memberNames() throws {
        #expect(try MemberPath("./usr//bin/").components == ["usr", "bin"])
        #expect(try MemberPath("./").isRoot)
        #expect(throws: MemberPath.Problem.absolute) { try MemberPath("/etc/passwd") }
        #expect(throws: MemberPath.Problem.parentComponent) { try MemberPath("a/../../b") }
        #expect(MemberPath.symlinkTargetEscapes("../lib", directoryDepth: 1) == false)
        #expect(MemberPath.symlinkTargetEscapes("../../lib", directoryDepth: 1) == true)
        #expect(MemberPath.symlinkTargetEscapes("a/../../b", directoryDepth: 0) == true)
        #expect(MemberPath.symlinkTargetEscapes("/anything/../..", directoryDepth: 0) == false)
    }
}
