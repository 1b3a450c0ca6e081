/// RFC 8785 (JSON Canonicalization Scheme) serialisation of a `JSONValue`, as guest-components'
/// `serde_json_canonicalizer` produces it: members sorted by UTF-16 code units, no whitespace,
/// strings escaped minimally (RFC 8785 §3.2.2.2), integral numbers without a fraction.
///
/// The key broker's binding hash is computed over these bytes on both sides, so a byte of
/// difference here means every honest client is refused: the tests pin known outputs. Numbers go
/// through a double, as the broker's values always did: `1.0`, `1e0` and `1` are all written `1`.
public enum CanonicalJSON {
    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out)
        return out
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out += "null".utf8
        case .bool(let bool): out += (bool ? "true" : "false").utf8
        case .number(let text): out += number(text).utf8
        case .string(let text): JSONWriter.writeString(text, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            let members = object.members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func number(_ text: String) -> String {
        guard let value = Double(text), value.isFinite else { return "null" }
        return JSONNumberText.format(value)
    }
}
