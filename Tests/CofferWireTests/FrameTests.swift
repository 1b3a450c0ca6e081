import CofferCore
import CofferWire
import Testing

@Suite struct FrameTests {
    @Test func encodesLengthKindAndPayload() throws {
        let bytes = try Frame(.ready, [0xAA, 0xBB, 0xCC]).encoded()
        #expect(bytes == [0, 0, 0, 3, 0x01, 0xAA, 0xBB, 0xCC])
    }

    @Test func decodesFramesDeliveredOneByteAtATime() throws {
        let frames = [Frame(.ready, Array(0..<200)), Frame(FrameKind(rawValue: 0x7F), []), Frame(.ready, [1])]
        let stream = try frames.flatMap { try $0.encoded() }
        var decoder = FrameDecoder()
        var decoded: [Frame] = []
        for byte in stream {
            decoder.append([byte])
            while let frame = try decoder.next() { decoded.append(frame) }
        }
        #expect(decoded == frames)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func decodesSeveralFramesDeliveredTogether() throws {
        var decoder = FrameDecoder()
        decoder.append(try Frame(.ready, [9]).encoded() + Frame(.ready, [8, 7]).encoded() + [0, 0])
        #expect(try decoder.next() == Frame(.ready, [9]))
        #expect(try decoder.next() == Frame(.ready, [8, 7]))
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedCount == 2)
    }

    @Test func refusesAnOversizedFrameFromItsHeaderAlone() throws {
        var decoder = FrameDecoder()
        let length = UInt32(Frame.maxPayload + 1)
        decoder.append([UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), 0x01])
        #expect(throws: WireError.payloadTooLarge(kind: .ready, size: Frame.maxPayload + 1)) { try decoder.next() }
        #expect(throws: WireError.self) { try Frame(.ready, [UInt8](repeating: 0, count: Frame.maxPayload + 1)).encoded() }
    }

    @Test func readyRoundTrips() throws {
        let ready = Ready(bootNanoseconds: 2_345_678_901, modulesLoaded: 11)
        var decoder = FrameDecoder()
        decoder.append(try ready.frame.encoded())
        let frame = try #require(try decoder.next())
        #expect(try Ready(frame) == ready)
        #expect(frame.payload.count == 12)
    }

    @Test func readyRefusesTruncationTrailingBytesOtherVersionsAndOtherKinds() throws {
        let good = Ready(bootNanoseconds: 1, modulesLoaded: 2).frame
        #expect(throws: WireError.self) { try Ready(Frame(.ready, Array(good.payload.dropLast()))) }
        #expect(throws: WireError.self) { try Ready(Frame(.ready, good.payload + [0])) }
        #expect(good.payload.prefix(2) == [0, 4])  // protocol version 4
        #expect(throws: WireError.versionMismatch(peer: 2, ours: 4)) { try Ready(Frame(.ready, [0, 2] + good.payload.dropFirst(2))) }
        #expect(throws: WireError.unexpected(kind: FrameKind(rawValue: 0x39), expected: .ready)) {
            try Ready(Frame(FrameKind(rawValue: 0x39), good.payload))
        }
    }
}
