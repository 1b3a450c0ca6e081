import CofferJSON
import CofferKBSProtocol
import CofferVerifier
import Foundation
import PostgresNIO

/// Sessions shared by replicas: a cookie issued by one is honoured by all, and a nonce is
/// redeemed once across all of them, because the redemption is one conditional UPDATE
/// (`state = 'challenged'` → `'attesting'`) that PostgreSQL runs for one caller at a time per row.
///
/// Bounds (decision 0019) as far as a shared table allows: on `auth`, the source's unauthenticated
/// sessions beyond its bound are deleted (dead ones first, then the oldest) before the new one is
/// inserted, in one statement each, so two replicas admitting one source at the same instant may
/// overshoot by the number of replicas. The total bounds are enforced by a sweep each replica runs
/// at most once a second (dead sessions dropped, the oldest unauthenticated past the total evicted).
/// Times are the brokers' clocks (as the in-memory table's are): replicas need synchronised clocks.
extension PostgresStore: SessionDirectory {
    public func insert(_ session: Session, now: Date) async throws -> Bool {
        let t = now.timeIntervalSince1970
        try await sweep(now: t)
        let source = session.source, keep = limits.unauthenticatedPerSource - 1
        try await client.perform("""
            DELETE FROM sessions WHERE id IN (
              SELECT id FROM sessions WHERE source = \(source) AND state <> 'attested'
              ORDER BY (expiry <= \(t) OR state = 'refused' OR (state = 'challenged' AND nonce_expiry <= \(t))), created DESC
              OFFSET \(keep))
            """)
        let (state, nonce, nonceExpiry, attested) = try Self.columns(session.state)
        try await client.perform("""
            INSERT INTO sessions (id, tee, hash, expiry, state, nonce, nonce_expiry, attested, source, created)
            VALUES (\(session.id), \(session.tee.rawValue), \(session.hash.rawValue), \(session.expiry.timeIntervalSince1970),
                    \(state), \(nonce), \(nonceExpiry), \(attested), \(source), \(t))
            """)
        return true
    }

    public func get(_ id: String, now: Date) async throws -> Session? {
        let rows = try await client.query("""
            SELECT tee, hash, expiry, state, nonce, nonce_expiry, attested, source FROM sessions
            WHERE id = \(id) AND expiry > \(now.timeIntervalSince1970)
            """)
        for row in try await rows.decode((String, String, Double, String, String?, Double?, String?, String).self) {
            return try Self.session(id, row)
        }
        return nil
    }

    public func consumeNonce(_ id: String, now: Date) async throws -> Result<(Session, String), KBSFailure> {
        let t = now.timeIntervalSince1970
        /// Security: the one place a nonce is redeemed. The WHERE clause is re-checked on the row
        /// under its lock, so of two replicas racing for one nonce exactly one updates the row;
        /// the other finds `attesting` and is refused as a replay.
        let taken = try await client.query("""
            UPDATE sessions SET state = 'attesting'
            WHERE id = \(id) AND state = 'challenged' AND expiry > \(t) AND nonce_expiry > \(t)
            RETURNING tee, hash, expiry, 'challenged'::text, nonce, nonce_expiry, attested, source
            """)
        for row in try await taken.decode((String, String, Double, String, String?, Double?, String?, String).self) {
            let session = try Self.session(id, row)
            return .success((session, row.4 ?? ""))
        }
        // Why not, in the words the in-memory table uses.
        for (state, expiry, nonceExpiry) in try await client.query("SELECT state, expiry, nonce_expiry FROM sessions WHERE id = \(id)")
            .decode((String, Double, Double?).self) {
            if expiry <= t { break }
            if state != "challenged" {
                return .failure(.attestationFailed("this session's nonce was already used: replayed attestation refused; start again with POST /kbs/v0/auth"))
            }
            if (nonceExpiry ?? 0) <= t {
                try await client.perform("DELETE FROM sessions WHERE id = \(id) AND state = 'challenged'")
                return .failure(.attestationFailed("the challenge nonce expired: start again with POST /kbs/v0/auth"))
            }
        }
        return .failure(.attestationFailed("unknown or expired kbs-session-id: start again with POST /kbs/v0/auth"))
    }

    public func update(_ id: String, state: Session.State) async throws {
        let (name, nonce, nonceExpiry, attested) = try Self.columns(state)
        try await client.perform("""
            UPDATE sessions SET state = \(name), nonce = \(nonce), nonce_expiry = \(nonceExpiry), attested = \(attested) WHERE id = \(id)
            """)
    }

    /// At most once a second per replica: drops dead sessions, then evicts the oldest
    /// unauthenticated ones past the total bound (decision 0019's order).
    func sweep(now t: Double) async throws {
        let due = lastSweep.withLock { last in
            guard t - last >= 1 || t < last else { return false }
            last = t
            return true
        }
        guard due else { return }
        try await client.perform("""
            DELETE FROM sessions WHERE expiry <= \(t) OR state = 'refused' OR (state = 'challenged' AND nonce_expiry <= \(t))
            """)
        try await client.perform("""
            DELETE FROM sessions WHERE id IN (
              SELECT id FROM sessions WHERE state <> 'attested' ORDER BY created DESC OFFSET \(limits.unauthenticated))
            """)
    }

    // MARK: - Rows

    static func columns(_ state: Session.State) throws -> (String, String?, Double?, String?) {
        switch state {
        case .challenged(let nonce, let expiry): return ("challenged", nonce, expiry.timeIntervalSince1970, nil)
        case .attesting: return ("attesting", nil, nil, nil)
        case .refused: return ("refused", nil, nil, nil)
        case .attested(let claims, let digest, let key):
            let json: JSONValue = .object(["claims": claims.json, "claims_digest": .string(digest), "tee-pubkey": key.json])
            return ("attested", nil, nil, String(decoding: CanonicalJSON.serialize(json), as: UTF8.self))
        }
    }

    static func session(_ id: String, _ row: (String, String, Double, String, String?, Double?, String?, String)) throws -> Session {
        let (tee, hash, expiry, state, nonce, nonceExpiry, attested, source) = row
        guard let tee = KBSTee(rawValue: tee), let hash = BindingHash(rawValue: hash) else {
            throw KBSStoreError("session \(id.prefix(40)): unknown tee or hash in the database")
        }
        let decoded: Session.State
        switch state {
        case "challenged":
            decoded = .challenged(nonce: nonce ?? "", nonceExpiry: Date(timeIntervalSince1970: nonceExpiry ?? 0))
        case "attesting": decoded = .attesting
        case "refused": decoded = .refused
        case "attested":
            guard let text = attested, let json = try? JSONValue.parse(Array(text.utf8)), let claims = json["claims"].flatMap(Claims.init(json:)),
                  let digest = json["claims_digest"]?.stringValue, let keyJSON = json["tee-pubkey"],
                  let key = try? TeePubKey(json: keyJSON, path: "tee-pubkey") else {
                throw KBSStoreError("session \(id.prefix(40)): unreadable attested state in the database")
            }
            decoded = .attested(claims: claims, claimsDigest: digest, teePubkey: key)
        default: throw KBSStoreError("session \(id.prefix(40)): unknown state \(state.prefix(16)) in the database")
        }
        return Session(id: id, tee: tee, hash: hash, expiry: Date(timeIntervalSince1970: expiry), state: decoded, source: source)
    }
}
