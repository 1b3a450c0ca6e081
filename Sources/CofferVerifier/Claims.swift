import Foundation

/// The kind of trusted execution environment that produced a piece of evidence.
public enum TEEType: String, Sendable, Codable, CaseIterable {
    case sgx
    case tdx
    case snp
    /// Launcher-signed evidence for machines without a TEE. Never hardware-backed.
    case sample
}

/// The platform TCB status a verifier assigns, as Intel's TCB Info names it.
///
/// SNP evidence is `upToDate` only when its REPORTED_TCB meets a minimum the caller names
/// (`outOfDate` below it) and `notEvaluated` when none was named (decision 0020); sample evidence has none.
public enum TCBStatus: String, Sendable, Codable, CaseIterable {
    case upToDate = "UpToDate"
    case swHardeningNeeded = "SWHardeningNeeded"
    case configurationNeeded = "ConfigurationNeeded"
    case configurationAndSWHardeningNeeded = "ConfigurationAndSWHardeningNeeded"
    case outOfDate = "OutOfDate"
    case outOfDateConfigurationNeeded = "OutOfDateConfigurationNeeded"
    case revoked = "Revoked"
    /// Coffer's own: nothing said what TCB is current, so the verifier vouches for none. Intel
    /// collateral never carries it (decoding refuses it there); default policies refuse it.
    case notEvaluated = "NotEvaluated"
}

/// What a verifier vouches for once every check passed.
///
/// `measurements` is keyed by the claim's name in snake case as the evidence format names it
/// (`mr_enclave`, `mr_signer`, `mr_td`, `rtmr0`…, `measurement`, `host_data`…), values in lower-case
/// hex. A policy compares against these names, and a denial quotes them, so they are stable API.
public struct Claims: Sendable, Codable, Equatable {
    public var tee: TEEType
    /// False for `sample` evidence: it protects nothing and no default policy accepts it.
    public var hardwareBacked: Bool
    public var tcbStatus: TCBStatus?
    /// Intel security advisories (INTEL-SA-…) that apply to the matched TCB level, sorted.
    public var advisoryIDs: [String]
    public var measurements: [String: String]
    /// The 64 bytes the evidence binds to the caller's nonce and key, lower-case hex.
    public var reportData: String
    /// Extra descriptive facts (quote version, QE status, chip id, signing key kind…).
    public var details: [String: String]

    public init(
        tee: TEEType, hardwareBacked: Bool, tcbStatus: TCBStatus?, advisoryIDs: [String],
        measurements: [String: String], reportData: String, details: [String: String] = [:]
    ) {
        self.tee = tee
        self.hardwareBacked = hardwareBacked
        self.tcbStatus = tcbStatus
        self.advisoryIDs = advisoryIDs
        self.measurements = measurements
        self.reportData = reportData
        self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case tee, hardwareBacked = "hardware_backed", tcbStatus = "tcb_status", advisoryIDs = "advisory_ids"
        case measurements, reportData = "report_data", details
    }
}

/// Which check failed and why, in words an operator can act on.
public struct VerificationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Check: Hashable, Sendable, RawRepresentable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The evidence bytes are not a well-formed quote/report of a supported version.
        public static let malformedEvidence = Check(rawValue: "malformed-evidence")
        /// The collateral bundle is missing a field or cannot be parsed.
        public static let malformedCollateral = Check(rawValue: "malformed-collateral")
        /// A certificate chain does not lead to the pinned root, or a certificate is invalid.
        public static let certificateChain = Check(rawValue: "certificate-chain")
        /// A certificate or a collateral item is outside its validity window at verification time.
        public static let expired = Check(rawValue: "expired")
        /// A CRL is invalid, or it lists a certificate of the chain.
        public static let revocation = Check(rawValue: "revocation")
        /// The QE report signature, the QE report data binding, or the quote/report signature failed.
        public static let signature = Check(rawValue: "signature")
        /// The TCB Info or QE Identity signature failed or it does not belong to this platform.
        public static let collateralSignature = Check(rawValue: "collateral-signature")
        /// No TCB level matches, the TCB is revoked, or the reported TCB exceeds the certified TCB.
        public static let tcb = Check(rawValue: "tcb")
        /// The QE identity (MRSIGNER, ISVPRODID, attributes, ISVSVN) does not match.
        public static let qeIdentity = Check(rawValue: "qe-identity")
    }

    public var check: Check
    public var message: String

    public init(_ check: Check, _ message: String) {
        self.check = check
        self.message = message
    }

    public var description: String { "\(check): \(message)" }
}
