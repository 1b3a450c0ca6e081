import CofferVerifier

/// Which workload identities may read which resource paths (`repository/type/tag`, `*` globs).
public struct ResourceRule: Codable, Sendable, Equatable {
    public var resources: [String]
    /// TEE names this rule admits; absent admits any TEE that passed attestation.
    public var tees: [String]?
    /// Claim name → accepted values; every listed claim must match.
    public var measurements: [String: [String]]?
    /// Coffer image ids (full SHA-256 digests, 64 hex, `sha256:` optional). Matched against the
    /// `image_id` claim when the launch had init-data (its bound `coffer.json` names the image,
    /// decision 0030), else as a launch without init-data binds them: SNP and sample `host_data`,
    /// TDX `mr_config_id`, SGX `config_id`, zero-padded to the field. Matched exactly (see
    /// `ImageID`); the admin API refuses any other form.
    public var imageIDs: [String]?
    /// `any_workload`: admit every workload that passed attestation. A rule must name
    /// `image_ids` or `measurements` or set this, visibly (decision 0019).
    public var anyWorkload: Bool?

    public init(resources: [String], tees: [String]? = nil, measurements: [String: [String]]? = nil, imageIDs: [String]? = nil,
                anyWorkload: Bool? = nil) {
        self.resources = resources
        self.tees = tees
        self.measurements = measurements
        self.imageIDs = imageIDs
        self.anyWorkload = anyWorkload
    }

    enum CodingKeys: String, CodingKey { case resources, tees, measurements, imageIDs = "image_ids", anyWorkload = "any_workload" }

    /// The first claim of `claims` this rule (number `index`) does not admit, or nil if it admits them all.
    func mismatch(_ claims: Claims, index: Int) -> Denial? {
        /// Security: a rule naming no workload would hand its resources to every attested TEE
        /// anywhere (`["*"]` + `{"tdx":{}}` = every TDX VM). The admin API refuses it; one stored
        /// by an older Coffer is denied here, unless it says `any_workload` explicitly.
        if let missing = missingWorkload(index: index) {
            return Denial(claim: "workload", expected: "a resource rule naming image_ids or measurements (or any_workload)",
                          actual: "none", reason: "\(missing): refused (fail closed)")
        }
        if let tees, !tees.contains(claims.tee.rawValue) {
            return Denial(claim: "tee", expected: "one of [\(tees.joined(separator: ", "))]", actual: claims.tee.rawValue,
                          reason: "resource policy does not admit this TEE")
        }
        for name in (measurements ?? [:]).keys.sorted() {
            let accepted = (measurements?[name] ?? []).map { $0.lowercased() }
            guard let actual = claims.measurements[name], accepted.contains(actual.lowercased()) else {
                return Denial(claim: name, expected: "one of [\(accepted.joined(separator: ", "))]",
                              actual: claims.measurements[name] ?? "absent", reason: "resource policy does not admit this workload")
            }
        }
        if let imageIDs, let image = claims.measurements[InitDataBinding.imageClaim] {
            // The launch had init-data: its field holds the init-data digest, and the image id is
            // the bound configuration's (set only after the digest checked).
            let accepted = imageIDs.compactMap(ImageID.normalize)
            guard let actual = ImageID.normalize(image), accepted.contains(actual) else {
                return Denial(claim: InitDataBinding.imageClaim, expected: "an image id in [\(imageIDs.joined(separator: ", "))]", actual: image,
                              reason: "resource policy does not admit this image")
            }
        } else if let imageIDs {
            let (claim, length) = InitDataBinding.field(for: claims.tee)
            let actual = claims.measurements[claim]?.lowercased() ?? ""
            // An entry that is not a full image id (a policy built without `validate`) matches nothing.
            let accepted = imageIDs.compactMap(ImageID.normalize).map { ImageID.claimValue($0, fieldLength: length) }
            guard !actual.isEmpty, accepted.contains(actual) else {
                return Denial(claim: claim, expected: "an image id in [\(imageIDs.joined(separator: ", "))]", actual: actual.isEmpty ? "absent" : actual,
                              reason: "resource policy does not admit this image")
            }
        }
        return nil
    }
}

public struct ResourcePolicy: Codable, Sendable, Equatable {
    public var rules: [ResourceRule]

    public init(rules: [ResourceRule] = []) { self.rules = rules }

    /// The first entry an operator must fix before the policy can be set, or nil: every rule
    /// names its workloads (or says `any_workload`), and every image id is a full 64-hex digest
    /// (`ImageID`). The admin API refuses the policy naming it.
    public func invalidEntry() -> String? {
        for (index, rule) in rules.enumerated() {
            if let missing = rule.missingWorkload(index: index) { return missing }
            if rule.anyWorkload == true, rule.namesWorkload {
                return "rules[\(index)] sets any_workload and names image_ids or measurements: choose one"
            }
            for name in (rule.measurements ?? [:]).keys.sorted() where rule.measurements?[name]?.isEmpty ?? true {
                return "rules[\(index)].measurements.\(name) is empty: it would match nothing; list the accepted values"
            }
            for id in rule.imageIDs ?? [] where ImageID.normalize(id) == nil {
                return "rules[\(index)].image_ids: \"\(id.prefix(80))\" is not a full image id (64 hex digits, optionally sha256:-prefixed; prefixes are not accepted)"
            }
        }
        return nil
    }

    /// Allowed if some rule covering `path` admits the claims; otherwise the denial of the first
    /// covering rule (or "no rule covers this path"). Default: nothing is readable.
    public func evaluate(path: String, claims: Claims) -> Denial? {
        let covering = rules.enumerated().filter { _, rule in rule.resources.contains { Glob.matches($0, path) } }
        guard !covering.isEmpty else {
            return Denial(claim: "resource", expected: "a resource-policy rule covering \(path)", actual: path,
                          reason: "no resource-policy rule allows this path")
        }
        var first: Denial?
        for (index, rule) in covering {
            guard let denial = rule.mismatch(claims, index: index) else { return nil }
            if first == nil { first = denial }
        }
        return first
    }
}

/// `*` matches any run of characters (including `/`); everything else matches itself.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "*") { star = pi; mark = ti; pi += 1 }
            else if pi < p.count, p[pi] == t[ti] { pi += 1; ti += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
