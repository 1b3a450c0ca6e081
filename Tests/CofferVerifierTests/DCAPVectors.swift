import CofferCore
import CofferEvidence
import CofferTestSupport
import Foundation
@testable import CofferVerifier
import CofferJSON

/// The DCAP vectors of ../shared/vectors, through `Vectors` (which names a missing file's path).
enum DCAPVectors {
    static func bytes(_ path: String) throws -> [UInt8] { try Vectors.bytes(path) }

    static func quote(_ name: String) throws -> [UInt8] { try bytes("\(name)/quote.bin") }

    static func collateralJSON(_ name: String) throws -> Data { Data(try bytes("\(name)/collateral.json")) }

    static func collateral(_ name: String) throws -> DCAPCollateral {
        try DCAPCollateral(json: try collateralJSON(name))
    }

    /// The verification time at which the README says both vectors verify.
    static let validTime = Date(timeIntervalSince1970: 1_750_600_000)

    static func verify(_ quote: [UInt8], _ collateral: DCAPCollateral, at: Date = validTime) -> Result<Claims, VerificationFailure> {
        DCAPVerifier.verify(quote: quote, collateral: collateral, at: at)
    }

    /// The failure of a result that must fail; nil (and a test failure at the call site) if it passed.
    static func failure(_ result: Result<Claims, VerificationFailure>) -> VerificationFailure? {
        if case .failure(let failure) = result { return failure }
        return nil
    }

    /// Rewrites one string field of the collateral bundle and parses it again.
    static func collateral(_ name: String, editing key: String, _ edit: (String) -> String) throws -> DCAPCollateral {
        var object = try JSONSerialization.jsonObject(with: try collateralJSON(name)) as! [String: Any]
        object[key] = edit(object[key] as! String)
        return try DCAPCollateral(json: try JSONSerialization.data(withJSONObject: object))
    }
}
