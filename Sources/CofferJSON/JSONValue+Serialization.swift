/// JSON text of a value, as written: members in their order, numbers as their literal text.
///
/// Strings are escaped as RFC 8785 §3.2.2.2 does (the canonical form shares the escaper):
/// `"` and `\` with a backslash, the control characters with their short escape or `\u00xx`,
/// everything else as UTF-8.
extension JSONValue {
    /// Compact text: what runc reads back, and what `state` prints after Coffer patches it.
    public var serialized: String { String(decoding: compactBytes, as: UTF8.self) }

    /// Compact text as UTF-8 bytes.
    public var compactBytes: [UInt8] {
        var out: [UInt8] = []
        JSONWriter.write(self, into: &out, indent: nil, level: 0)
        return out
    }

    /// Indented text (two spaces), as runc prints `state`.
    public var pretty: String {
        var out: [UInt8] = []
        JSONWriter.write(self, into: &out, indent: 2, level: 0)
        return String(decoding: out, as: UTF8.self)
    }
}

enum JSONWriter {
    static func write(_ value: JSONValue, into out: inout [UInt8], indent: Int?, level: Int) {
        func newline(_ out: inout [UInt8], _ level: Int) {
            guard let indent else { return }
            out.append(0x0a)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
        }
        switch value {
        case .null: out += "null".utf8
        case .bool(let bool): out += (bool ? "true" : "false").utf8
        case .number(let text): out += text.utf8
        case .string(let text): writeString(text, into: &out)
        case .array(let elements):
            guard !elements.isEmpty else { out += "[]".utf8; return }
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, level + 1)
                write(element, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, level)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else { out += "{}".utf8; return }
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, level + 1)
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(member.value, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, level)
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (base64, hex, names, paths) need no escape: copy them whole.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out += text.utf8
            out.append(UInt8(ascii: "\""))
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [0x5c, 0x22]
            case UInt8(ascii: "\\"): out += [0x5c, 0x5c]
            case 0x08: out += [0x5c, UInt8(ascii: "b")]
            case 0x09: out += [0x5c, UInt8(ascii: "t")]
            case 0x0a: out += [0x5c, UInt8(ascii: "n")]
            case 0x0c: out += [0x5c, UInt8(ascii: "f")]
            case 0x0d: out += [0x5c, UInt8(ascii: "r")]
            case 0x00..<0x20:
                out += [0x5c, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
