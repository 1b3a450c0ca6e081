import CofferCore
import Foundation

/// Typed reads from a decoded collateral JSON object; every failure names the JSON path so an
/// operator can find the bad field in the bundle.
struct CollateralJSON {
    var object: [String: Any]
    var path: String

    init(object: [String: Any], path: String) {
        self.object = object
        self.path = path
    }

    /// Decodes `bytes` as a JSON object.
    init(bytes: [UInt8], path: String) throws(VerificationFailure) {
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            throw VerificationFailure(.malformedCollateral, "\(path) is not valid JSON: \(error.localizedDescription)")
        }
        guard let object = value as? [String: Any] else {
            throw VerificationFailure(.malformedCollateral, "\(path) is not a JSON object")
        }
        self.init(object: object, path: path)
    }

    func fail(_ key: String, _ detail: String) -> VerificationFailure {
        VerificationFailure(.malformedCollateral, "\(path).\(key) \(detail)")
    }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    func string(_ key: String) throws(VerificationFailure) -> String {
        guard let value = object[key] as? String else { throw fail(key, "is missing or not a string") }
        return value
    }

    func int(_ key: String) throws(VerificationFailure) -> Int {
        guard let number = object[key] as? NSNumber,
              let value = Int(exactly: number.doubleValue)
        else { throw fail(key, "is missing or not an integer") }
        return value
    }

    func svn<T: FixedWidthInteger>(_ key: String, as: T.Type) throws(VerificationFailure) -> T {
        let value = try int(key)
        guard let svn = T(exactly: value) else { throw fail(key, "= \(value) is out of range") }
        return svn
    }

    func hex(_ key: String, count: Int? = nil) throws(VerificationFailure) -> [UInt8] {
        guard let bytes = Hex.decode(try string(key)) else { throw fail(key, "is not hex") }
        if let count, bytes.count != count { throw fail(key, "has \(bytes.count) bytes, expected \(count)") }
        return bytes
    }

    func timestamp(_ key: String) throws(VerificationFailure) -> Int64 {
        guard let seconds = IntelTimestamp.parse(try string(key)) else {
            throw fail(key, "is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)")
        }
        return seconds
    }

    func status(_ key: String) throws(VerificationFailure) -> TCBStatus {
        let text = try string(key)
        guard let status = TCBStatus(rawValue: text) else { throw fail(key, "\"\(text)\" is not a TCB status") }
        return status
    }

    func strings(_ key: String) throws(VerificationFailure) -> [String] {
        guard has(key) else { return [] }
        guard let values = object[key] as? [String] else { throw fail(key, "is not an array of strings") }
        return values
    }

    func child(_ key: String) throws(VerificationFailure) -> CollateralJSON {
        guard let value = object[key] as? [String: Any] else { throw fail(key, "is missing or not an object") }
        return CollateralJSON(object: value, path: "\(path).\(key)")
    }

    func children(_ key: String) throws(VerificationFailure) -> [CollateralJSON] {
        guard let values = object[key] as? [Any] else { throw fail(key, "is missing or not an array") }
        var result: [CollateralJSON] = []
        for (index, value) in values.enumerated() {
            guard let item = value as? [String: Any] else { throw fail("\(key)[\(index)]", "is not an object") }
            result.append(CollateralJSON(object: item, path: "\(path).\(key)[\(index)]"))
        }
        return result
    }
}
