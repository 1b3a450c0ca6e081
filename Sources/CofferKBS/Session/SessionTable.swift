import Foundation
import NIOCore
import Synchronization

/// Sessions in memory, bounded (`SessionLimits`) so that `POST /auth`, which costs nothing, cannot
/// lock anyone out (decision 0019).
///
/// Security: when a bound is reached, a new session makes room rather than being refused —
/// first by dropping dead sessions (lapsed nonce, refused, expired), then by evicting the oldest
/// unauthenticated session *of the same source* (per-source bound) or the oldest unauthenticated
/// one overall (total bound, reached only by a flood from many addresses). A flood from one
/// address therefore only ever evicts its own sessions, and attested sessions are never evicted
/// to make room for an unauthenticated one. Only when every slot holds a live attested session
/// is `auth` refused (503).
///
/// Unauthenticated ids are kept in arrival order (global and per source); since every nonce has
/// the same lifetime, the lapsed ones are at the front. Entries of sessions that were since
/// attested or removed are skipped lazily and compacted away, so each operation is amortised O(1).
public final class SessionTable: Sendable {
    private struct Contents {
        var sessions: [String: Session] = [:]
        var pending = CircularBuffer<String>()
        var pendingBySource: [String: CircularBuffer<String>] = [:]
        var pendingCount: [String: Int] = [:]
        var pendingTotal = 0
    }

    private let contents = Mutex(Contents())
    public let limits: SessionLimits

    public init(limits: SessionLimits = SessionLimits()) { self.limits = limits }

    /// Adds a new (challenged) session, making room as the type's comment says. False only when
    /// the table is full of live attested sessions.
    public func insert(_ session: Session, now: Date) -> Bool {
        contents.withLock { c in
            let source = session.source
            if c.pendingCount[source, default: 0] >= limits.unauthenticatedPerSource {
                Self.dropDead(from: source, &c, now: now)
                while c.pendingCount[source, default: 0] >= limits.unauthenticatedPerSource, Self.evictOldest(from: source, &c) {}
            }
            if c.pendingTotal >= limits.unauthenticated {
                Self.dropDeadFront(&c, now: now)
                while c.pendingTotal >= limits.unauthenticated, Self.evictOldest(&c) {}
            }
            if c.sessions.count >= limits.total {
                Self.dropDeadFront(&c, now: now)
                if c.sessions.count >= limits.total, !Self.evictOldest(&c) {
                    for (id, s) in c.sessions where s.expiry <= now { Self.remove(id, &c) }
                }
                guard c.sessions.count < limits.total else { return false }
            }
            c.sessions[session.id] = session
            if session.isUnauthenticated {
                c.pending.append(session.id)
                c.pendingBySource[source, default: CircularBuffer()].append(session.id)
                c.pendingCount[source, default: 0] += 1
                c.pendingTotal += 1
            }
            Self.compact(source, &c)
            return true
        }
    }

    /// The live session, or nil if unknown or expired (expired ones are removed).
    public func get(_ id: String, now: Date) -> Session? {
        contents.withLock { c in
            guard let session = c.sessions[id] else { return nil }
            guard session.expiry > now else { Self.remove(id, &c); return nil }
            return session
        }
    }

    /// Takes the session's nonce for one attestation, atomically: two concurrent `attest` calls
    /// on one session cannot both use it. Returns the session as it was, or why not.
    public func consumeNonce(_ id: String, now: Date) -> Result<(Session, String), KBSFailure> {
        contents.withLock { c in
            guard let session = c.sessions[id], session.expiry > now else {
                return .failure(.attestationFailed("unknown or expired kbs-session-id: start again with POST /kbs/v0/auth"))
            }
            guard case .challenged(let nonce, let nonceExpiry) = session.state else {
                return .failure(.attestationFailed("this session's nonce was already used: replayed attestation refused; start again with POST /kbs/v0/auth"))
            }
            guard nonceExpiry > now else {
                Self.remove(id, &c)
                return .failure(.attestationFailed("the challenge nonce expired: start again with POST /kbs/v0/auth"))
            }
            c.sessions[id]?.state = .attesting
            return .success((session, nonce))
        }
    }

    public func update(_ id: String, state: Session.State) {
        contents.withLock { c in
            guard let session = c.sessions[id] else { return }
            var updated = session
            updated.state = state
            c.sessions[id] = updated
            if session.isUnauthenticated, !updated.isUnauthenticated { Self.uncount(session.source, &c) }
        }
    }

    /// Counts, for tests and diagnostics: all sessions, unauthenticated ones, and those of `source`.
    public func counts(source: String = "") -> (total: Int, unauthenticated: Int, fromSource: Int) {
        contents.withLock { c in (c.sessions.count, c.pendingTotal, c.pendingCount[source, default: 0]) }
    }

    // MARK: - Bookkeeping (all under the lock)

    private static func uncount(_ source: String, _ c: inout Contents) {
        c.pendingTotal -= 1
        let left = c.pendingCount[source, default: 1] - 1
        if left > 0 { c.pendingCount[source] = left } else {
            c.pendingCount[source] = nil
            c.pendingBySource[source] = nil  // every id left in it is stale
        }
    }

    private static func remove(_ id: String, _ c: inout Contents) {
        guard let session = c.sessions.removeValue(forKey: id) else { return }
        if session.isUnauthenticated { uncount(session.source, &c) }
    }

    /// The session `id` names if it is still there and unauthenticated (else the entry is stale).
    private static func pendingSession(_ id: String, _ c: Contents) -> Session? {
        guard let session = c.sessions[id], session.isUnauthenticated else { return nil }
        return session
    }

    /// Removes every dead unauthenticated session of `source` (at most the per-source bound).
    private static func dropDead(from source: String, _ c: inout Contents, now: Date) {
        guard let queue = c.pendingBySource[source] else { return }
        var kept = CircularBuffer<String>()
        for id in queue {
            guard let session = pendingSession(id, c), session.source == source else { continue }
            if session.isDead(now: now) { remove(id, &c) } else { kept.append(id) }
        }
        if c.pendingCount[source] != nil { c.pendingBySource[source] = kept }
    }

    /// Evicts the oldest unauthenticated session of `source`; false if it has none.
    private static func evictOldest(from source: String, _ c: inout Contents) -> Bool {
        while let id = c.pendingBySource[source]?.popFirst() {
            if let session = pendingSession(id, c), session.source == source { remove(id, &c); return true }
        }
        return false
    }

    /// Removes dead sessions from the front of the arrival order (where lapsed nonces are).
    private static func dropDeadFront(_ c: inout Contents, now: Date) {
        while let id = c.pending.first {
            if let session = pendingSession(id, c) {
                guard session.isDead(now: now) else { return }
                remove(id, &c)
            }
            _ = c.pending.popFirst()
        }
    }

    /// Evicts the oldest unauthenticated session overall; false if there is none.
    private static func evictOldest(_ c: inout Contents) -> Bool {
        while let id = c.pending.popFirst() {
            if pendingSession(id, c) != nil { remove(id, &c); return true }
        }
        return false
    }

    /// Drops stale ids once they outnumber the live ones, so the queues stay O(live).
    private static func compact(_ source: String, _ c: inout Contents) {
        if c.pending.count > 2 * c.pendingTotal + 1_024 {
            c.pending = CircularBuffer(c.pending.filter { pendingSession($0, c) != nil })
        }
        if let queue = c.pendingBySource[source], queue.count > 2 * c.pendingCount[source, default: 0] + 64 {
            c.pendingBySource[source] = CircularBuffer(queue.filter { pendingSession($0, c)?.source == source })
        }
    }
}
