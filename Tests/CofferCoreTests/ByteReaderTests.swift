import Testing
@testable import CofferCore

@Suite struct ByteReaderTests {
    @Test func readsLittleAndBigEndian() throws {
        var reader = ByteReader([0x01, 0x02, 0x03, 0x04, 0x05, 0x06])
        #expect(try reader.readUInt16LE() == 0x0201)
        #expect(try reader.readUInt32BE() == 0x0304_0506)
        #expect(reader.isAtEnd)
    }

    @Test func truncationNamesTheFieldAndNeverTraps() {
        var reader = ByteReader([0xAA, 0xBB, 0xCC])
        #expect(throws: ByteReader.Truncated(field: "header.version", offset: 0, needed: 4, available: 3)) {
            _ = try reader.readUInt32LE("header.version")
        }
        #expect(throws: ByteReader.Truncated.self) { _ = try reader.read(-1, "negative") }
        #expect(throws: ByteReader.Truncated.self) { _ = try reader.read(Int.max, "huge") }
        #expect(reader.offset == 0)
    }

    @Test func writerRoundTrips() throws {
        var writer = ByteWriter()
        writer.writeUInt64LE(0x0102_0304_0506_0708)
        writer.writeUInt16BE(0xBEEF)
        writer.writeFixed([1, 2], width: 4)
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readUInt64LE() == 0x0102_0304_0506_0708)
        #expect(try reader.readUInt16BE() == 0xBEEF)
        #expect(try reader.read(4) == [1, 2, 0, 0])
    }

    @Test func hexRoundTripsAndRejectsGarbage() {
        #expect(Hex.encode([0x00, 0xAB, 0xff]) == "00abff")
        #expect(Hex.decode("00ABff") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
