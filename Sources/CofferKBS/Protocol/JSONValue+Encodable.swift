import CofferJSON
import Foundation

extension JSONValue {
    /// Converts any Encodable (a JWK, claims) into a JSONValue, through Foundation's encoder.
    public init(encoding value: some Encodable) throws {
        self = try JSONValue.parse(Array(try JSONEncoder().encode(value)))
    }
}
