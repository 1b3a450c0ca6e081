import CofferJSON

/// The RCAR messages of the Trustee KBS protocol, version 0.4.0 (trustee
/// kbs/docs/kbs_attestation_protocol.md; field names as the `kbs-types` crate serialises them).
public enum KBSProtocol {
    /// The version guest-components' client sends and Trustee's KBS requires.
    public static let version = "0.4.0"
    public static let sessionCookie = "kbs-session-id"
    public static let supportedHashAlgorithmsKey = "supported-hash-algorithms"
    public static let selectedHashAlgorithmKey = "selected-hash-algorithm"
}

/// Step 1, `POST /kbs/v0/auth`.
public struct KBSRequest: Codable, Sendable, Equatable {
    public var version: String
    /// `kbs-types` `Tee` names: `sgx`, `tdx`, `snp`, `sample` (and others Coffer refuses).
    public var tee: String
    public var extraParams: JSONValue?

    public init(version: String = KBSProtocol.version, tee: String, extraParams: JSONValue? = nil) {
        self.version = version
        self.tee = tee
        self.extraParams = extraParams
    }

    enum CodingKeys: String, CodingKey { case version, tee, extraParams = "extra-params" }
}

/// Step 2, the reply to `auth`, with the `kbs-session-id` cookie.
public struct KBSChallenge: Codable, Sendable, Equatable {
    public var nonce: String
    public var extraParams: JSONValue

    public init(nonce: String, extraParams: JSONValue) {
        self.nonce = nonce
        self.extraParams = extraParams
    }

    enum CodingKeys: String, CodingKey { case nonce, extraParams = "extra-params" }
}

/// `runtime-data`: the nonce and the TEE's ephemeral public key, hashed into the report data.
public struct RuntimeData: Codable, Sendable, Equatable {
    public var nonce: String
    public var teePubkey: TeePubKey

    public init(nonce: String, teePubkey: TeePubKey) {
        self.nonce = nonce
        self.teePubkey = teePubkey
    }

    enum CodingKeys: String, CodingKey { case nonce, teePubkey = "tee-pubkey" }
}

/// `kbs-types` `CompositeEvidence`: its two fields are snake case on the wire.
public struct CompositeEvidence: Codable, Sendable, Equatable {
    /// Per TEE: sample `{"evidence": b64}`, sgx `{"quote": b64}`, tdx `{"quote": b64, "cc_eventlog"?}`;
    /// Coffer also reads an optional `"collateral"` (the DCAP collateral JSON, as object or b64).
    public var primaryEvidence: JSONValue
    /// A string exactly as hashed into the report data (JSON of secondary devices, often empty).
    public var additionalEvidence: String

    public init(primaryEvidence: JSONValue, additionalEvidence: String = "") {
        self.primaryEvidence = primaryEvidence
        self.additionalEvidence = additionalEvidence
    }

    enum CodingKeys: String, CodingKey { case primaryEvidence = "primary_evidence", additionalEvidence = "additional_evidence" }
}

/// `init-data`: the document (`format` `toml` or `json`) whose digest the host set as the TEE's
/// init-data field at launch.
public struct InitData: Codable, Sendable, Equatable {
    public var format: String
    public var body: String

    public init(format: String, body: String) {
        self.format = format
        self.body = body
    }
}

/// Step 3, `POST /kbs/v0/attest`.
public struct KBSAttestation: Codable, Sendable, Equatable {
    public var initData: InitData?
    public var runtimeData: RuntimeData
    public var teeEvidence: CompositeEvidence

    public init(initData: InitData? = nil, runtimeData: RuntimeData, teeEvidence: CompositeEvidence) {
        self.initData = initData
        self.runtimeData = runtimeData
        self.teeEvidence = teeEvidence
    }

    enum CodingKeys: String, CodingKey {
        case initData = "init-data", runtimeData = "runtime-data", teeEvidence = "tee-evidence"
    }
}

/// The reply to a successful `attest`.
public struct AttestationTokenResponse: Codable, Sendable, Equatable {
    public var token: String
    public init(token: String) { self.token = token }
}

/// `kbs-types` `ErrorInformation`, extended with the denial (absent for plain errors) so a
/// refused workload learns which claim failed and what was expected.
public struct ErrorInformation: Codable, Sendable, Equatable {
    public var type: String
    public var detail: String
    public var denial: Denial?

    public init(type: String, detail: String, denial: Denial? = nil) {
        self.type = type
        self.detail = detail
        self.denial = denial
    }
}

/// The TEE types Coffer's KBS evaluates, by their `kbs-types` names (the verifier's `TEEType`
/// for each is CofferKBS's `teeType`: the protocol module does not link the verifier).
public enum KBSTee: String, Sendable, Codable, CaseIterable {
    case sgx, tdx, snp, sample
}
