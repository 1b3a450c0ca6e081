import CofferJSON

/// A JSON object of collateral with its path, read field by field; a failure names the path of
/// the member that is missing or of the wrong type ("tcb_info.tcbLevels[2].tcbStatus").
struct CollateralObject {
    var members: JSONObject
    var path: String

    init(_ value: JSONValue, path: String) throws(VerificationFailure) {
        guard case .object(let members) = value else { throw Self.wrongType(path, "an object") }
        self.members = members
        self.path = path
    }

    /// Parses `bytes` as a JSON object; `path` names the document in messages.
    init(parsing bytes: some Collection<UInt8>, path: String) throws(VerificationFailure) {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            throw VerificationFailure(.malformedCollateral, "\(path) is not valid JSON: \(error)")
        }
        try self.init(value, path: path)
    }

    static func wrongType(_ path: String, _ expected: String) -> VerificationFailure {
        VerificationFailure(.malformedCollateral, "\(path) has the wrong type: expected \(expected)")
    }

    func missing(_ key: String) -> VerificationFailure {
        VerificationFailure(.malformedCollateral, "\(path).\(key) is missing")
    }

    /// The member, or nil when it is absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    func contains(_ key: String) -> Bool { value(key) != nil }

    func optionalString(_ key: String) throws(VerificationFailure) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw Self.wrongType("\(path).\(key)", "a string") }
        return text
    }

    func string(_ key: String) throws(VerificationFailure) -> String {
        guard let text = try optionalString(key) else { throw missing(key) }
        return text
    }

    func integer<T: FixedWidthInteger>(_ key: String, as type: T.Type) throws(VerificationFailure) -> T {
        guard let value = value(key) else { throw missing(key) }
        return try Self.integer(value, as: type, path: "\(path).\(key)")
    }

    /// An integer that fits `T` exactly (no fraction, exponent or out-of-range value).
    static func integer<T: FixedWidthInteger>(
        _ value: JSONValue, as type: T.Type, path: @autoclosure () -> String
    ) throws(VerificationFailure) -> T {
        guard case .number(let text) = value, let integer = T(text) else {
            throw wrongType(path(), "an integer from \(T.min) to \(T.max)")
        }
        return integer
    }

    func optionalObject(_ key: String) throws(VerificationFailure) -> CollateralObject? {
        guard let value = value(key) else { return nil }
        return try CollateralObject(value, path: "\(path).\(key)")
    }

    func object(_ key: String) throws(VerificationFailure) -> CollateralObject {
        guard let object = try optionalObject(key) else { throw missing(key) }
        return object
    }

    /// The elements of an array of objects, each with its indexed path; nil when absent or null.
    func optionalObjects(_ key: String) throws(VerificationFailure) -> [CollateralObject]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw Self.wrongType("\(path).\(key)", "an array") }
        var objects: [CollateralObject] = []
        objects.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            objects.append(try CollateralObject(element, path: "\(path).\(key)[\(index)]"))
        }
        return objects
    }

    func objects(_ key: String) throws(VerificationFailure) -> [CollateralObject] {
        guard let objects = try optionalObjects(key) else { throw missing(key) }
        return objects
    }

    /// An optional array of strings (advisory IDs).
    func optionalStrings(_ key: String) throws(VerificationFailure) -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw Self.wrongType("\(path).\(key)", "an array") }
        var strings: [String] = []
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element else { throw Self.wrongType("\(path).\(key)[\(index)]", "a string") }
            strings.append(text)
        }
        return strings
    }
}
