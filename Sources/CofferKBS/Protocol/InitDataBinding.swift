import CofferCore
import CofferVerifier
import CofferJSON
import CofferKBSProtocol

/// The `init-data` binding of protocol 0.4.0 (trustee kbs/docs/initdata.md, "Integrity Binding"
/// and "Initdata Digest Calculating"): the digest of the whole init-data body, by the algorithm
/// the body names, is what the host set as the TEE's init-data field when it launched the guest.
/// The digest is truncated or zero-padded to that field's length (`regularize_data` in Trustee's
/// verifier crate).
public enum InitDataBinding {
    /// The claim holding each TEE's init-data field and its length in bytes: TDX `MRCONFIGID`
    /// (48), SGX `CONFIGID` (64), SNP `HOST_DATA` (32); Coffer's sample evidence has a 32-byte
    /// `host_data` for the same purpose.
    public static func field(for tee: TEEType) -> (claim: String, length: Int) {
        switch tee {
        case .tdx: ("mr_config_id", 48)
        case .sgx: ("config_id", 64)
        case .snp, .sample: ("host_data", 32)
        }
    }

    /// The digest of `body` as the init-data's own `algorithm` names it, or why it cannot be had.
    /// Formats: `toml` (what guest-components sends; the only one Trustee's built-in AS takes),
    /// read by the protocol module's `InitDataDocument` (the one init-data reader: the document
    /// the guest checks at launch is the document the broker digests), and `json`, of which only
    /// the top-level `algorithm` is read. The digest covers the body's exact bytes.
    public static func digest(_ initData: InitData) throws(KBSFailure) -> [UInt8] {
        let body = Array(initData.body.utf8)
        switch initData.format {
        case "toml":
            do { return try InitDataDocument(parsing: body).digest } catch { throw .badRequest("init-data.body: \(error)") }
        case "json":
            guard let name = (try? JSONValue.parse(body))?["algorithm"]?.stringValue else {
                throw .badRequest("init-data.body has no top-level algorithm (sha256, sha384 or sha512)")
            }
            guard let hash = BindingHash(rawValue: name) else {
                throw .badRequest("init-data algorithm \"\(name.prefix(16))\" is not supported: use sha256, sha384 or sha512")
            }
            return hash.digest(body)
        default: throw .badRequest("init-data.format \"\(initData.format.prefix(16))\" is not supported: use toml or json")
        }
    }

    /// Security: init-data (agent policy, KBS address, configuration) comes from the untrusted
    /// host; only the TEE's launch-time field vouches for it. A workload presenting init-data
    /// that is not the one it was launched with is refused, naming the field.
    public static func check(_ initData: InitData, claims: Claims) throws(KBSFailure) -> Denial? {
        let (claim, length) = field(for: claims.tee)
        var expected = try digest(initData)
        if expected.count > length { expected = Array(expected.prefix(length)) }
        expected += [UInt8](repeating: 0, count: length - expected.count)
        let hex = Hex.encode(expected)
        let actual = claims.measurements[claim]?.lowercased()
        guard actual == hex else {
            return Denial(claim: claim, expected: hex, actual: actual ?? "absent",
                          reason: "the evidence's \(claim) is not the digest of the init-data presented")
        }
        return nil
    }
}
