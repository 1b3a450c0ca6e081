import CofferCore

/// Converting collateral JSON strings into typed values, with failures that name the field.
enum CollateralDecoding {
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
        /// `NotEvaluated` is Coffer's word for "no basis", never Intel's: collateral naming it is malformed.
        guard let status = TCBStatus(rawValue: text), status != .notEvaluated else {
            throw VerificationFailure(.malformedCollateral, "\(field) \"\(text)\" is not a TCB status")
        }
        return status
    }
}
