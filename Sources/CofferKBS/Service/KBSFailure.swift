import CofferKBSProtocol

/// A refused or malformed request, with the HTTP status it maps to. Never a 500: every input
/// problem is the client's (4xx) and carries a message saying what to fix.
///
/// `type` is Trustee's problem-type URI (`kbs/src/error.rs`: the prefix and its variant names),
/// so a Trustee client's `ErrorInformation` reads the same kinds it would from Trustee.
public struct KBSFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var type: String
    public var detail: String
    public var denial: Denial?

    public static let typePrefix = "https://github.com/confidential-containers/kbs/errors/"

    /// `kind` is the variant name (`AttestationError`, `PolicyDeny`…) without the prefix.
    public init(status: Int, kind: String, detail: String, denial: Denial? = nil) {
        self.status = status
        self.type = Self.typePrefix + kind
        self.detail = detail
        self.denial = denial
    }

    /// The variant name without the URI prefix.
    public var kind: String { type.hasPrefix(Self.typePrefix) ? String(type.dropFirst(Self.typePrefix.count)) : type }

    /// Malformed input in the RCAR exchange (Trustee answers these 401 `AttestationError`;
    /// Coffer says 400, since the client cannot fix them by attesting again).
    public static func badRequest(_ detail: String) -> KBSFailure { KBSFailure(status: 400, kind: "AttestationError", detail: detail) }
    public static func malformedJSON(_ detail: String) -> KBSFailure { KBSFailure(status: 400, kind: "SerdeError", detail: detail) }
    /// No session or token: 401, on which a Trustee client runs the RCAR handshake again.
    public static func unauthorized(_ detail: String) -> KBSFailure { KBSFailure(status: 401, kind: "TokenNotFound", detail: detail) }
    public static func badToken(_ detail: String) -> KBSFailure { KBSFailure(status: 401, kind: "TokenVerifierError", detail: detail) }
    public static func adminRefused(_ detail: String) -> KBSFailure { KBSFailure(status: 401, kind: "AdminAuth", detail: detail) }
    public static func notFound(_ detail: String) -> KBSFailure { KBSFailure(status: 404, kind: "InvalidRequestPath", detail: detail) }
    /// A resource-policy denial: 403 as the protocol document's resource section says (a 401
    /// would make a Trustee client attest again, in vain).
    public static func denied(_ denial: Denial) -> KBSFailure {
        KBSFailure(status: 403, kind: "PolicyDeny", detail: denial.description, denial: denial)
    }
    /// An attestation-policy denial: 401 `PolicyDeny` as Trustee returns it, the status on which
    /// its client reads and reports the ErrorInformation.
    public static func attestationDenied(_ denial: Denial) -> KBSFailure {
        KBSFailure(status: 401, kind: "PolicyDeny", detail: denial.description, denial: denial)
    }
    public static func attestationFailed(_ detail: String, denial: Denial? = nil) -> KBSFailure {
        KBSFailure(status: 401, kind: "AttestationError", detail: detail, denial: denial)
    }
    public static func unavailable(_ detail: String) -> KBSFailure { KBSFailure(status: 503, kind: "StoreUnavailable", detail: detail) }

    /// A protocol message the broker could not read: 400 `AttestationError` with the protocol
    /// module's message, the one place its errors become HTTP answers.
    public init(_ error: KBSProtocolError) { self = .badRequest(error.description) }

    public var information: ErrorInformation { ErrorInformation(type: type, detail: detail, denial: denial) }
    public var description: String { "\(status) \(kind): \(detail)" }
}
