import CofferCore

/// Strings and string lists inside payloads: a BE32 byte count then UTF-8 bytes; a list is a BE32
/// element count then its strings. Counts are checked against what is left before anything is
/// allocated, so a hostile count cannot make the reader reserve memory the frame does not hold.
extension ByteWriter {
    mutating func writeString(_ text: String) {
        let bytes = Array(text.utf8)
        writeUInt32BE(UInt32(truncatingIfNeeded: bytes.count))
        write(bytes)
    }

    mutating func writeStrings(_ list: [String]) {
        writeUInt32BE(UInt32(truncatingIfNeeded: list.count))
        for text in list { writeString(text) }
    }
}

extension ByteReader {
    mutating func readString(_ field: String) throws -> String {
        let count = Int(try readUInt32BE("\(field) length"))
        let bytes = try read(count, field)
        // NUL cannot cross execve(2) or a path: a string holding one is refused, not truncated.
        guard !bytes.contains(0) else { throw FieldError("\(field) contains a NUL byte") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FieldError("\(field) is not UTF-8")
        }
        return text
    }

    mutating func readStrings(_ field: String) throws -> [String] {
        let count = Int(try readUInt32BE("\(field) count"))
        // Each string takes at least its 4-byte length.
        guard count <= remaining / 4 else { throw FieldError("\(field) count \(count) exceeds the payload") }
        var list: [String] = []
        list.reserveCapacity(count)
        for index in 0..<count { list.append(try readString("\(field)[\(index)]")) }
        return list
    }
}
