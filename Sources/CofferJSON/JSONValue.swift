/// A JSON value (RFC 8259): the one JSON model of Coffer, for DCAP collateral, the key broker's
/// protocol and the OCI runtime's config.json and state.
///
/// Numbers keep their literal text, so a 64-bit limit in config.json or a signed collateral field
/// is read exactly and written back unchanged; `doubleValue` and `integer(as:)` convert on demand.
/// Objects keep their members in document order and never hold two members of the same name.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, valid by the RFC 8259 grammar (the parser and the constructors
    /// below only make valid ones; the serializers write it as it is).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Deepest nesting of arrays and objects the parser accepts: hostile input cannot exhaust the
    /// stack of a recursive reader.
    public static let maximumDepth = 64
}

// MARK: Constructors

extension JSONValue {
    /// An object from a dictionary (member order is then the dictionary's; the canonical form sorts).
    public static func object(_ members: [String: JSONValue]) -> JSONValue { .object(JSONObject(members)) }

    /// An object from members in order; a later member of an already used name replaces it.
    public static func object(_ members: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(members)) }

    /// A number from a double: integral values below 10^15 without a fraction, others as Swift
    /// prints them (the key broker's timestamps). Not-finite values have no JSON form: `null`.
    public static func number(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .null }
        return .number(JSONNumberText.format(value))
    }

    public static func integer(_ value: Int) -> JSONValue { .number(String(value)) }
    public static func integer(_ value: UInt64) -> JSONValue { .number(String(value)) }
    public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
}

// MARK: Accessors

extension JSONValue {
    /// The member `key` of an object; nil for other values and absent members.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The strings of an array of strings; nil if this is not one.
    public var stringArray: [String]? {
        guard let array = arrayValue else { return nil }
        let strings = array.compactMap(\.stringValue)
        return strings.count == array.count ? strings : nil
    }

    /// A number as the nearest double; nil for other values.
    public var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }

    /// A number that is an integer fitting `T` exactly, as written (no fraction or exponent);
    /// nil otherwise.
    public func integer<T: FixedWidthInteger>(as type: T.Type = Int.self) -> T? {
        guard case .number(let text) = self else { return nil }
        return T(text)
    }

    /// This object with `key` set to `value` (replaced in place, or appended); other values unchanged.
    public func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = value
        return .object(members)
    }

    /// This object with the value at `key` transformed (absent keys see `nil`).
    public func updating(_ key: String, _ transform: (JSONValue?) -> JSONValue) -> JSONValue {
        setting(key, transform(self[key]))
    }
}

/// Number text shared by the constructors and the canonical form.
enum JSONNumberText {
    /// Integral doubles below 10^15 as integers, others in Swift's shortest round-trip form.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
