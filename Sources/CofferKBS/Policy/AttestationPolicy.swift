import CofferVerifier

/// What a TEE's claims must show for its attestation to succeed. Defaults are as strict as
/// Trustee's `default allow = false`: UpToDate only, no advisories, no debug, and a TEE without
/// an entry is refused.
public struct TEEAttestationPolicy: Codable, Sendable, Equatable {
    public var tcbStatuses: [TCBStatus]
    public var allowedAdvisoryIDs: [String]
    /// Claim name (as `Claims.measurements` names it) → accepted values (lower-case hex).
    public var referenceValues: [String: [String]]
    public var allowDebug: Bool
    /// `accept_any_measurement`: admit any genuine TEE of this kind whatever it runs. An entry
    /// must name `reference_values` or set this, visibly (decision 0019).
    public var acceptAnyMeasurement: Bool
    /// `min_tcb` (snp only): the lowest REPORTED_TCB the verifier calls `UpToDate`; without it
    /// SNP evidence is `NotEvaluated` (decision 0020, Policy/SNPPolicy.swift).
    public var minTCB: SNPMinimumTCB?
    /// `max_vmpl` (snp only): the highest VMPL a report may come from; absent means 0.
    public var maxVMPL: Int?

    public init(tcbStatuses: [TCBStatus] = [.upToDate], allowedAdvisoryIDs: [String] = [],
                referenceValues: [String: [String]] = [:], allowDebug: Bool = false,
                acceptAnyMeasurement: Bool = false, minTCB: SNPMinimumTCB? = nil, maxVMPL: Int? = nil) {
        self.tcbStatuses = tcbStatuses
        self.allowedAdvisoryIDs = allowedAdvisoryIDs
        self.referenceValues = referenceValues
        self.allowDebug = allowDebug
        self.acceptAnyMeasurement = acceptAnyMeasurement
        self.minTCB = minTCB
        self.maxVMPL = maxVMPL
    }

    enum CodingKeys: String, CodingKey {
        case tcbStatuses = "tcb_statuses", allowedAdvisoryIDs = "allowed_advisory_ids"
        case referenceValues = "reference_values", allowDebug = "allow_debug"
        case acceptAnyMeasurement = "accept_any_measurement"
        case minTCB = "min_tcb", maxVMPL = "max_vmpl"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tcbStatuses = try c.decodeIfPresent([TCBStatus].self, forKey: .tcbStatuses) ?? [.upToDate]
        allowedAdvisoryIDs = try c.decodeIfPresent([String].self, forKey: .allowedAdvisoryIDs) ?? []
        referenceValues = try c.decodeIfPresent([String: [String]].self, forKey: .referenceValues) ?? [:]
        allowDebug = try c.decodeIfPresent(Bool.self, forKey: .allowDebug) ?? false
        acceptAnyMeasurement = try c.decodeIfPresent(Bool.self, forKey: .acceptAnyMeasurement) ?? false
        minTCB = try c.decodeIfPresent(SNPMinimumTCB.self, forKey: .minTCB)
        maxVMPL = try c.decodeIfPresent(Int.self, forKey: .maxVMPL)
    }
}

/// The attestation policy: one entry per TEE (`sgx`, `tdx`, `snp`, `sample`).
public struct AttestationPolicy: Codable, Sendable, Equatable {
    public var tees: [String: TEEAttestationPolicy]

    public init(tees: [String: TEEAttestationPolicy] = [:]) { self.tees = tees }

    /// Evaluates verified claims. `devMode` is the server's `--dev`: the only way `sample`
    /// evidence, which is not hardware-backed, can ever pass.
    public func evaluate(_ claims: Claims, devMode: Bool) -> Denial? {
        let tee = claims.tee.rawValue
        /// Security: sample evidence is signed by a launcher key on the host; it proves nothing
        /// about confidentiality, so only an explicitly development server accepts it.
        if claims.tee == .sample || !claims.hardwareBacked {
            guard devMode else {
                return Denial(claim: "tee", expected: "hardware-backed evidence (sgx, tdx or snp)", actual: tee,
                              reason: "sample evidence is not hardware-backed and is accepted only by a KBS started with --dev")
            }
        }
        guard let policy = tees[tee] else {
            return Denial(claim: "tee", expected: "a TEE with an attestation policy (\(tees.keys.sorted().joined(separator: ", ")))",
                          actual: tee, reason: "no attestation policy for \(tee)")
        }
        if claims.tee != .sample {
            guard let status = claims.tcbStatus, policy.tcbStatuses.contains(status) else {
                return Denial(claim: "tcb_status", expected: "one of \(policy.tcbStatuses.map(\.rawValue).joined(separator: ", "))",
                              actual: claims.tcbStatus?.rawValue ?? "none", reason: "TCB status not accepted")
            }
        }
        if let advisory = claims.advisoryIDs.first(where: { !policy.allowedAdvisoryIDs.contains($0) }) {
            return Denial(claim: "advisory_ids", expected: "only advisories in [\(policy.allowedAdvisoryIDs.joined(separator: ", "))]",
                          actual: advisory, reason: "the platform is affected by an advisory the policy does not accept")
        }
        /// Security: a debuggable enclave or guest is readable by the host, so it never gets secrets
        /// unless the policy opts in by name. Fail closed: only an explicit "false" passes — an
        /// absent or unexpected `debug` claim is refused too. (Sample evidence has no debug
        /// attribute; it protects nothing anyway and passes only under `--dev`.)
        if !policy.allowDebug, claims.tee != .sample, claims.details["debug"] != "false" {
            let actual = claims.details["debug"] ?? "absent"
            return Denial(claim: "debug", expected: "false", actual: actual,
                          reason: actual == "true" ? "debug-mode TEE refused" : "the evidence does not say the TEE is not in debug mode")
        }
        if let denial = policy.vmplDenial(claims) { return denial }
        /// Security: an entry naming no reference values would admit every genuine TEE of its kind,
        /// whatever it runs. The admin API refuses such a policy; a stored one (older Coffer) is
        /// refused here too, unless it says `accept_any_measurement` explicitly.
        if let entry = policy.missingReferenceValues(tee: tee) {
            return Denial(claim: "reference_values", expected: "an attestation policy entry naming reference values (or accept_any_measurement)",
                          actual: "none", reason: "\(entry): refused (fail closed)")
        }
        for name in policy.referenceValues.keys.sorted() {
            let accepted = (policy.referenceValues[name] ?? []).map { $0.lowercased() }
            let actual = claims.measurements[name]
            guard let actual, accepted.contains(actual.lowercased()) else {
                return Denial(claim: name, expected: accepted.count == 1 ? accepted[0] : "one of [\(accepted.joined(separator: ", "))]",
                              actual: actual ?? "absent", reason: "measurement does not match the reference value")
            }
        }
        return nil
    }
}
