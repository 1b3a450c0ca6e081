import CofferCore
import Foundation

/// Decoding collateral JSON into typed values, with failures that name the JSON path.
enum CollateralDecoding {
    /// Decodes `T` from `bytes`; a failure names `path` and the field inside it.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: Data, path: String) throws(VerificationFailure) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch let error as DecodingError {
            throw VerificationFailure(.malformedCollateral, describe(error, path: path))
        } catch {
            throw VerificationFailure(.malformedCollateral, "\(path) does not decode: \(error)")
        }
    }

    static func describe(_ error: DecodingError, path: String) -> String {
        func location(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce(path) { text, key in
                key.intValue.map { "\(text)[\($0)]" } ?? "\(text).\(key.stringValue)"
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(location(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(location(context.codingPath)) has the wrong type: \(context.debugDescription)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "\(path) is not valid JSON"
                : "\(location(context.codingPath)) is invalid: \(context.debugDescription)"
        @unknown default:
            return "\(path) does not decode: \(error)"
        }
    }

    static func hex(_ text: String, count: Int, field: String) throws(VerificationFailure) -> [UInt8] {
        guard let bytes = Hex.decode(text), bytes.count == count else {
            throw VerificationFailure(.malformedCollateral, "\(field) is not \(count) bytes of hex")
        }
        return bytes
    }

    static func timestamp(_ text: String, field: String) throws(VerificationFailure) -> Int64 {
        guard let seconds = IntelTimestamp.parse(text) else {
            throw VerificationFailure(.malformedCollateral, "\(field) \"\(text)\" is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)")
        }
        return seconds
    }

    static func status(_ text: String, field: String) throws(VerificationFailure) -> TCBStatus {
        guard let status = TCBStatus(rawValue: text) else {
            throw VerificationFailure(.malformedCollateral, "\(field) \"\(text)\" is not a TCB status")
        }
        return status
    }
}
