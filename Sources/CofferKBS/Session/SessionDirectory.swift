import Foundation

/// Where the broker keeps RCAR sessions. One broker process keeps them in memory
/// (`SessionTable`, bounded as decision 0019 says); replicas share them in PostgreSQL
/// (`PostgresStore`), so a cookie from one replica is honoured by every other and a nonce
/// issued by one is redeemed exactly once across all of them (decision 0036).
public protocol SessionDirectory: Sendable {
    /// Adds a new (challenged) session, making room for it; false only when full of live
    /// attested sessions.
    func insert(_ session: Session, now: Date) async throws -> Bool
    /// The live session, or nil if unknown or expired.
    func get(_ id: String, now: Date) async throws -> Session?
    /// Takes the session's nonce for one attestation, atomically: of any number of concurrent
    /// calls, on any replica, at most one gets it.
    func consumeNonce(_ id: String, now: Date) async throws -> Result<(Session, String), KBSFailure>
    func update(_ id: String, state: Session.State) async throws
}

extension SessionTable: SessionDirectory {}
