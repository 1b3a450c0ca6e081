/// The DER inside one `-----BEGIN …-----` … `-----END …-----` block (RFC 7468): the base64 text
/// between the two lines, line breaks and blanks ignored.
///
/// Decoded here in one pass because swift-asn1's general PEM reader was a tenth of the cost of a
/// whole DCAP verification. Strict: only the base64 alphabet, `=` padding only at the end, and a
/// length that is a whole number of 4-character groups; anything else is nil.
enum PEMBase64 {
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    static func der(ofBlock block: Substring) -> [UInt8]? {
        let bytes = Array(block.utf8)
        // The body starts after the first line (BEGIN) and ends before the last "-----END".
        guard let firstBreak = bytes.firstIndex(of: 0x0a) else { return nil }
        var end = bytes.count
        while end > firstBreak, bytes[end - 1] != 0x0a { end -= 1 }
        guard end > firstBreak + 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity((end - firstBreak) * 3 / 4)
        var accumulator: UInt32 = 0
        var count = 0
        var padding = 0
        var finished = false
        for index in (firstBreak + 1)..<end {
            let byte = bytes[index]
            switch byte {
            case 0x0a, 0x0d, 0x20, 0x09:
                continue
            case _ where finished:
                return nil          // text after the padded final group
            case UInt8(ascii: "="):
                padding += 1
                accumulator <<= 6
            default:
                let value = table[Int(byte)]
                guard value != 0xff, padding == 0 else { return nil }
                accumulator = accumulator << 6 | UInt32(value)
            }
            count += 1
            if count == 4 {
                guard padding <= 2 else { return nil }
                output.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                if padding < 2 { output.append(UInt8(truncatingIfNeeded: accumulator >> 8)) }
                if padding < 1 { output.append(UInt8(truncatingIfNeeded: accumulator)) }
                accumulator = 0
                count = 0
                finished = padding > 0
            }
        }
        guard count == 0, !output.isEmpty else { return nil }
        return output
    }
}
