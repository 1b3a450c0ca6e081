/// Why a broker-protocol message or value was refused: malformed JSON fields, an unusable key, a
/// JWE that does not open. `description` names what was wrong (a field path, a header member);
/// the broker answers it as a 400 `AttestationError` (`KBSFailure(_:)` in CofferKBS), a client
/// reports it as is.
public struct KBSProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
