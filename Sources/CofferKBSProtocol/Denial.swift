/// Why the KBS refused: the exact claim, what the policy expected, and what the evidence said.
/// It goes into the response body and the audit log unchanged.
public struct Denial: Codable, Sendable, Equatable, CustomStringConvertible {
    public var claim: String
    public var expected: String
    public var actual: String?
    public var reason: String

    public init(claim: String, expected: String, actual: String? = nil, reason: String) {
        self.claim = claim
        self.expected = expected
        self.actual = actual
        self.reason = reason
    }

    public var description: String {
        "\(reason): claim \(claim) expected \(expected)" + (actual.map { ", got \($0)" } ?? "")
    }
}
