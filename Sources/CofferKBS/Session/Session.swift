import CofferVerifier
import Foundation
import Synchronization

/// One RCAR session, keyed by the `kbs-session-id` cookie.
public struct Session: Sendable {
    public enum State: Sendable {
        /// Challenged: `nonce` awaits one attestation before `nonceExpiry`.
        case challenged(nonce: String, nonceExpiry: Date)
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
}

/// Sessions in memory, bounded: expired ones are dropped when the table is full, and beyond the
/// bound new sessions are refused rather than letting memory grow without limit.
public final class SessionTable: Sendable {
    private let sessions = Mutex<[String: Session]>([:])
    public let capacity: Int

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    public func insert(_ session: Session, now: Date) -> Bool {
        sessions.withLock { table in
            if table.count >= capacity { table = table.filter { $0.value.expiry > now } }
            guard table.count < capacity else { return false }
            table[session.id] = session
            return true
        }
    }

    /// The live session, or nil if unknown or expired (expired ones are removed).
    public func get(_ id: String, now: Date) -> Session? {
        sessions.withLock { table in
            guard let session = table[id] else { return nil }
            guard session.expiry > now else { table[id] = nil; return nil }
            return session
        }
    }

    /// Takes the session's nonce for one attestation, atomically: two concurrent `attest` calls
    /// on one session cannot both use it. Returns the session as it was, or why not.
    public func consumeNonce(_ id: String, now: Date) -> Result<(Session, String), KBSFailure> {
        sessions.withLock { table in
            guard let session = table[id], session.expiry > now else {
                return .failure(.attestationFailed("unknown or expired kbs-session-id: start again with POST /kbs/v0/auth"))
            }
            guard case .challenged(let nonce, let nonceExpiry) = session.state else {
                return .failure(.attestationFailed("this session's nonce was already used: replayed attestation refused; start again with POST /kbs/v0/auth"))
            }
            guard nonceExpiry > now else {
                table[id] = nil
                return .failure(.attestationFailed("the challenge nonce expired: start again with POST /kbs/v0/auth"))
            }
            var used = session
            used.state = .refused
            table[id] = used
            return .success((session, nonce))
        }
    }

    public func update(_ id: String, state: Session.State) {
        sessions.withLock { table in table[id]?.state = state }
    }
}
