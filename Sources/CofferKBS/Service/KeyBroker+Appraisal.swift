import CofferCore
import CofferVerifier
import Foundation
import CofferJSON
import CofferKBSProtocol

/// `POST /kbs/v0/admin/appraise`: a policy dry run. Operators test an attestation policy against
/// real evidence (and its collateral, at a chosen time) before deploying it, with exactly the
/// verification and policy `attest` applies — everything but the nonce and tee-pubkey binding,
/// which evidence captured earlier cannot satisfy. It opens no session, issues no token and
/// releases nothing; the audit log records it as a dry run.
public struct AppraisalRequest: Sendable {
    public var tee: KBSTee
    /// `primary_evidence` as `attest` would receive it (`{"quote"|"report"|"evidence", "collateral"?}`).
    public var primaryEvidence: JSONValue
    public var initData: InitData?
    /// When to evaluate certificates, CRLs and collateral (`time`, Unix seconds); nil is now.
    public var time: Date?

    public init(tee: KBSTee, primaryEvidence: JSONValue, initData: InitData? = nil, time: Date? = nil) {
        self.tee = tee
        self.primaryEvidence = primaryEvidence
        self.initData = initData
        self.time = time
    }

    /// `{"tee", "evidence": base64, "collateral"?: object or base64, "time"?: seconds, "init-data"?: {"format","body"}}`.
    public init(json: JSONValue) throws(KBSFailure) {
        do throws(KBSProtocolError) { try self.init(fields: json) } catch { throw KBSFailure(error) }
    }

    /// The fields read with the protocol module's reader; every problem is a 400 naming the field.
    private init(fields json: JSONValue) throws(KBSProtocolError) {
        let fields = try MessageFields(json)
        let name = try fields.string("tee")
        guard let tee = KBSTee(rawValue: name) else {
            throw KBSProtocolError("tee \"\(name.prefix(32))\" is not supported: use one of \(KBSTee.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var primary: [String: JSONValue] = [EvidenceInput.field(for: tee): .string(try fields.string("evidence"))]
        if let collateral = fields.optional("collateral") { primary["collateral"] = collateral }
        var time: Date?
        if let value = fields.optional("time") {
            guard let seconds = value.doubleValue, seconds.isFinite, seconds >= 0, seconds < 1e11 else {
                throw KBSProtocolError("wrong type at \"time\": expected Unix seconds (a non-negative number)")
            }
            time = Date(timeIntervalSince1970: seconds)
        }
        var initData: InitData?
        if let value = fields.optional("init-data") {
            let f = try MessageFields(value, path: "init-data")
            initData = InitData(format: try f.string("format"), body: try f.string("body"))
        }
        self.init(tee: tee, primaryEvidence: .object(primary), initData: initData, time: time)
    }
}

/// The dry run's decision: the claims when the policy admits them, else the refusal with its
/// named claim. `id` is the audit record's session column (`coffer kbs explain ID`).
/// JSON: `{"dry_run": true, "allowed", "id", "tee", "time", "claims_digest", "claims"?, "type"?, "detail"?, "denial"?}`.
public struct Appraisal: Sendable {
    public var id: String
    public var tee: KBSTee
    public var time: Date
    public var claims: Claims?
    public var claimsDigest: String
    public var refusal: KBSFailure?

    public var allowed: Bool { refusal == nil }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "dry_run": .bool(true), "allowed": .bool(allowed), "id": .string(id), "tee": .string(tee.rawValue),
            "time": .number(time.timeIntervalSince1970), "claims_digest": .string(claimsDigest),
        ]
        if let claims { members["claims"] = claims.json }
        // A refusal carries the members of the error body `attest` would have sent: type, detail, denial.
        if let refusal, case .object(let error) = refusal.information.json { for (key, value) in error { members[key] = value } }
        return .object(members)
    }
}

extension KeyBroker {
    /// The policy dry run. A malformed request (unknown TEE, bad base64, evidence of another TEE)
    /// throws its 400; a verification failure or a policy denial is a decision, returned.
    public func appraise(_ request: AppraisalRequest, now: Date) async throws(KBSFailure) -> Appraisal {
        let time = request.time ?? now
        let input = try EvidenceInput(tee: request.tee, primary: request.primaryEvidence)
        let policy: AttestationPolicy
        do { policy = try await store.attestationPolicy() } catch { throw .unavailable("policy store unavailable") }
        var appraisal = Appraisal(id: Self.randomToken(16), tee: request.tee, time: time, claimsDigest: "")
        do throws(Refusal) {
            let claims = try Self.appraise(input: input, initData: request.initData, policy: policy, configuration: configuration, at: time)
            appraisal.claims = claims
            appraisal.claimsDigest = Self.digest(claims)
        } catch {
            guard error.failure.status == 401 else { throw error.failure }
            appraisal.refusal = error.failure
            appraisal.claimsDigest = error.claimsDigest
        }
        /// Security: the dry run is an admin action on evidence; it is audited like a real decision,
        /// marked so that no one reads it as a release.
        let action = "appraise (dry run) at \(Int(time.timeIntervalSince1970))"
        do {
            try await store.record(Decision(time: now, session: appraisal.id, tee: request.tee.rawValue, claimsDigest: appraisal.claimsDigest,
                                            action: action, allowed: appraisal.allowed, reason: appraisal.refusal?.detail ?? "allowed",
                                            denial: appraisal.refusal?.denial))
        } catch {
            throw .unavailable("audit log unavailable; retry")
        }
        return appraisal
    }
}
