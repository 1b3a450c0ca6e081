import Foundation
import Synchronization

/// One audited decision: who (session, TEE, claims digest), what (action), and the outcome.
public struct Decision: Codable, Sendable, Equatable {
    public var time: Date
    public var session: String
    public var tee: String
    /// SHA-256 of the claims as sorted-key JSON (empty when none were verified).
    public var claimsDigest: String
    public var action: String
    public var allowed: Bool
    /// "allowed", or the failure/denial in words.
    public var reason: String
    public var denial: Denial?
    /// The `image_id` claim the decision was made on (a launch with Coffer init-data), if any.
    public var imageID: String?

    public init(time: Date, session: String, tee: String, claimsDigest: String, action: String, allowed: Bool, reason: String, denial: Denial? = nil,
                imageID: String? = nil) {
        self.time = time
        self.session = session
        self.tee = tee
        self.claimsDigest = claimsDigest
        self.action = action
        self.allowed = allowed
        self.reason = reason
        self.denial = denial
        self.imageID = imageID
    }

    enum CodingKeys: String, CodingKey { case time, session, tee, claimsDigest = "claims_digest", action, allowed, reason, denial, imageID = "image_id" }
}

/// Where the KBS keeps resources, policies and the audit log. Implementations: `MemoryStore`
/// (tests, benchmarks) and `SQLiteStore` (the service).
public protocol KBSStore: Sendable {
    func resource(_ path: String) async throws -> [UInt8]?
    func putResource(_ path: String, _ value: [UInt8]) async throws
    func deleteResource(_ path: String) async throws -> Bool
    func attestationPolicy() async throws -> AttestationPolicy
    func setAttestationPolicy(_ policy: AttestationPolicy) async throws
    func resourcePolicy() async throws -> ResourcePolicy
    func setResourcePolicy(_ policy: ResourcePolicy) async throws
    func record(_ decision: Decision) async throws
    /// Most recent first; `session` filters.
    func decisions(session: String?, limit: Int) async throws -> [Decision]
}

/// The store in memory: nothing survives the process.
public final class MemoryStore: KBSStore {
    private struct Contents {
        var resources: [String: [UInt8]] = [:]
        var attestation = AttestationPolicy()
        var resource = ResourcePolicy()
        var audit: [Decision] = []
    }
    private let contents = Mutex(Contents())

    public init() {}

    public func resource(_ path: String) async throws -> [UInt8]? { contents.withLock { $0.resources[path] } }
    public func putResource(_ path: String, _ value: [UInt8]) async throws { contents.withLock { $0.resources[path] = value } }
    public func deleteResource(_ path: String) async throws -> Bool { contents.withLock { $0.resources.removeValue(forKey: path) != nil } }
    public func attestationPolicy() async throws -> AttestationPolicy { contents.withLock { $0.attestation } }
    public func setAttestationPolicy(_ policy: AttestationPolicy) async throws { contents.withLock { $0.attestation = policy } }
    public func resourcePolicy() async throws -> ResourcePolicy { contents.withLock { $0.resource } }
    public func setResourcePolicy(_ policy: ResourcePolicy) async throws { contents.withLock { $0.resource = policy } }
    public func record(_ decision: Decision) async throws {
        contents.withLock { c in
            c.audit.append(decision)
            if c.audit.count > 100_000 { c.audit.removeFirst(c.audit.count - 100_000) }
        }
    }
    public func decisions(session: String?, limit: Int) async throws -> [Decision] {
        contents.withLock { c in Array(c.audit.reversed().filter { session == nil || $0.session == session }.prefix(limit)) }
    }
}
