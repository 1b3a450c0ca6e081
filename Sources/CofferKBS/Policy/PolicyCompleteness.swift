/// Decision 0019: a policy says whom it admits. An attestation entry names the reference values
/// it accepts or says `accept_any_measurement: true`; a resource rule names image ids or
/// measurements or says `any_workload: true`. Silence is refused when a policy is set and denied
/// when one is evaluated, and the explicit "any" flags are called out as warnings.
extension TEEAttestationPolicy {
    /// Why this entry (for `tee`) admits any workload without saying so, or nil.
    func missingReferenceValues(tee: String) -> String? {
        guard referenceValues.isEmpty, !acceptAnyMeasurement else { return nil }
        return "tees.\(tee) names no reference_values: name the measurements it accepts or set \"accept_any_measurement\": true"
    }
}

extension AttestationPolicy {
    /// The first entry an operator must fix before the policy can be set, or nil. The admin API
    /// refuses the policy naming it; `coffer kbs serve` reports a stored one at start-up.
    public func invalidEntry() -> String? {
        for tee in tees.keys.sorted() {
            guard let entry = tees[tee] else { continue }
            if let missing = entry.missingReferenceValues(tee: tee) { return missing }
            if let invalid = entry.invalidSNPFields(tee: tee) { return invalid }
            if entry.acceptAnyMeasurement, !entry.referenceValues.isEmpty {
                return "tees.\(tee) sets accept_any_measurement and names reference_values: choose one"
            }
            for name in entry.referenceValues.keys.sorted() where entry.referenceValues[name]?.isEmpty ?? true {
                return "tees.\(tee).reference_values.\(name) is empty: it would match nothing; list the accepted values"
            }
        }
        return nil
    }

    /// One line per entry that explicitly admits any measurement (for logs and `explain`).
    public func explicitAnyWarnings(tee: String? = nil) -> [String] {
        tees.keys.sorted().filter { tee == nil || $0 == tee }.compactMap { name in
            guard tees[name]?.acceptAnyMeasurement == true else { return nil }
            return "attestation policy tees.\(name) sets accept_any_measurement: any genuine \(name) TEE passes, whatever it runs"
        }
    }
}

extension ResourceRule {
    /// True if the rule names the workloads it admits (image ids or measurements).
    var namesWorkload: Bool { !(measurements ?? [:]).isEmpty || !(imageIDs ?? []).isEmpty }

    /// Why this rule (number `index`) admits any workload without saying so, or nil.
    func missingWorkload(index: Int) -> String? {
        guard !namesWorkload, anyWorkload != true else { return nil }
        return "rules[\(index)] names no image_ids or measurements: name the workloads it admits or set \"any_workload\": true"
    }
}

extension ResourcePolicy {
    /// One line per rule that explicitly admits any attested workload (for logs and `explain`).
    public func explicitAnyWarnings(tee: String? = nil) -> [String] {
        rules.enumerated().compactMap { index, rule in
            guard rule.anyWorkload == true, tee == nil || rule.tees == nil || rule.tees?.contains(tee ?? "") == true else { return nil }
            let tees = rule.tees.map { $0.joined(separator: ", ") } ?? "any TEE"
            return "resource policy rules[\(index)] sets any_workload: every attested workload (\(tees)) may read \(rule.resources.joined(separator: ", "))"
        }
    }
}
