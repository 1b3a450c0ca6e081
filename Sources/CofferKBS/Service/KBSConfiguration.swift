import CofferVerifier
import Foundation

public struct KBSConfiguration: Sendable {
    /// `--dev`: accept `sample` evidence (never hardware-backed). Off by default.
    public var devMode: Bool
    public var trust: TrustAnchors
    /// How long a challenge nonce may wait for its attestation.
    public var nonceLifetime: TimeInterval
    /// How long a session (and its cookie) lives from `auth`.
    public var sessionLifetime: TimeInterval
    public var tokenLifetime: TimeInterval
    /// How many sessions the broker holds, and how many of them may be unauthenticated, in
    /// total and per source address (`SessionLimits`, decision 0019).
    public var sessionLimits: SessionLimits

    public init(devMode: Bool = false, trust: TrustAnchors = TrustAnchors(), nonceLifetime: TimeInterval = 60,
                sessionLifetime: TimeInterval = 300, tokenLifetime: TimeInterval = 300,
                sessionLimits: SessionLimits = SessionLimits()) {
        self.devMode = devMode
        self.trust = trust
        self.nonceLifetime = nonceLifetime
        self.sessionLifetime = sessionLifetime
        self.tokenLifetime = tokenLifetime
        self.sessionLimits = sessionLimits
    }
}
