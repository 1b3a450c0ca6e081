import CofferVerifier
import Foundation

/// One RCAR session, keyed by the `kbs-session-id` cookie.
public struct Session: Sendable {
    public enum State: Sendable {
        /// Challenged: `nonce` awaits one attestation before `nonceExpiry`.
        case challenged(nonce: String, nonceExpiry: Date)
        /// The nonce was taken; the evidence is being appraised.
        case attesting
        /// The nonce was used; the attestation passed.
        case attested(claims: Claims, claimsDigest: String, teePubkey: TeePubKey)
        /// The nonce was used; the attestation was refused.
        case refused
    }

    public var id: String
    public var tee: KBSTee
    public var hash: BindingHash
    public var expiry: Date
    public var state: State
    /// The client's address (the connection's remote IP, no port) that opened the session; ""
    /// when unknown. Unauthenticated sessions are bounded per source (`SessionLimits`).
    public var source: String = ""

    /// Not yet attested: what `auth` alone creates, at no cost to the client.
    var isUnauthenticated: Bool {
        if case .attested = state { return false }
        return true
    }

    /// Can never be used again: expired, refused, or challenged with a lapsed nonce.
    func isDead(now: Date) -> Bool {
        if expiry <= now { return true }
        switch state {
        case .challenged(_, let nonceExpiry): return nonceExpiry <= now
        case .refused: return true
        case .attesting, .attested: return false
        }
    }
}

/// How many sessions the table holds. `auth` costs the client nothing, so unauthenticated
/// (challenged, being appraised or refused) sessions are bounded per source address and in
/// total, below the bound on all sessions; attested ones cost a genuine attestation each.
public struct SessionLimits: Sendable, Equatable {
    public var total: Int
    public var unauthenticated: Int
    public var unauthenticatedPerSource: Int

    public init(total: Int = 100_000, unauthenticated: Int = 25_000, unauthenticatedPerSource: Int = 1_024) {
        self.total = max(total, 1)
        self.unauthenticated = min(max(unauthenticated, 1), self.total)
        self.unauthenticatedPerSource = min(max(unauthenticatedPerSource, 1), self.unauthenticated)
    }
}
