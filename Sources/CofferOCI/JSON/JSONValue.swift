/// A JSON document as OCI runtime files carry it (config.json, process.json, `runc state`).
///
/// coffer-runtime links no Foundation: every ordinary `create` and `run` pays its start-up cost
/// before runc runs (docs/decisions, "coffer-runtime without Foundation"). Objects keep their key
/// order and numbers keep their literal text, so a rewritten config.json differs from the
/// original only where Coffer changed it.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number exactly as written (runtime-spec uses 64-bit integers such as memory limits).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.number(a), .number(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The strings of an array of strings; nil if this is not one.
    public var stringArray: [String]? {
        guard let array = arrayValue else { return nil }
        let strings = array.compactMap(\.stringValue)
        return strings.count == array.count ? strings : nil
    }

    /// This object with `key` set to `value` (replaced in place, or appended).
    public func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        if let index = members.firstIndex(where: { $0.0 == key }) {
            members[index].1 = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }

    /// This object with the value at `key` transformed (absent keys see `nil`).
    public func updating(_ key: String, _ transform: (JSONValue?) -> JSONValue) -> JSONValue {
        setting(key, transform(self[key]))
    }

    public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
    public static func integer(_ value: Int) -> JSONValue { .number(String(value)) }
    public static func integer(_ value: UInt64) -> JSONValue { .number(String(value)) }
}
