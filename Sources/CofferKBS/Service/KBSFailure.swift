/// A refused or malformed request, with the HTTP status it maps to. Never a 500: every input
/// problem is the client's (4xx) and carries a message saying what to fix.
public struct KBSFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var type: String
    public var detail: String
    public var denial: Denial?

    public init(status: Int, type: String, detail: String, denial: Denial? = nil) {
        self.status = status
        self.type = type
        self.detail = detail
        self.denial = denial
    }

    public static func badRequest(_ detail: String) -> KBSFailure { KBSFailure(status: 400, type: "bad-request", detail: detail) }
    public static func unauthorized(_ detail: String) -> KBSFailure { KBSFailure(status: 401, type: "unauthorized", detail: detail) }
    public static func notFound(_ detail: String) -> KBSFailure { KBSFailure(status: 404, type: "not-found", detail: detail) }
    public static func denied(_ denial: Denial) -> KBSFailure {
        KBSFailure(status: 403, type: "denied", detail: denial.description, denial: denial)
    }
    public static func attestationFailed(_ detail: String, denial: Denial? = nil) -> KBSFailure {
        KBSFailure(status: 401, type: "attestation-failed", detail: detail, denial: denial)
    }

    public var information: ErrorInformation { ErrorInformation(type: type, detail: detail, denial: denial) }
    public var description: String { "\(status) \(type): \(detail)" }
}
