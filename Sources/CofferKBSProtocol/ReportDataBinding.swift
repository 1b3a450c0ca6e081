import CofferCore
import CofferJSON

/// The report-data binding as guest-components' `rcar_client.rs` computes it: the hash of the
/// RFC 8785 canonical JSON of `{"tee-pubkey", "nonce", "additional-evidence"}`. The evidence's
/// report data must be that digest followed by zeros. A client computes it (`expected`) for its
/// evidence; the broker checks it (`check`).
public enum ReportDataBinding {
    public static func material(runtimeData: RuntimeData, additionalEvidence: String) -> [UInt8] {
        CanonicalJSON.serialize(.object([
            "tee-pubkey": runtimeData.teePubkey.json,
            "nonce": .string(runtimeData.nonce),
            "additional-evidence": .string(additionalEvidence),
        ]))
    }

    public static func expected(runtimeData: RuntimeData, additionalEvidence: String, hash: BindingHash) -> [UInt8] {
        hash.digest(material(runtimeData: runtimeData, additionalEvidence: additionalEvidence))
    }

    /// Security: without this check a valid quote captured from any other session (or a relay)
    /// could be presented with the attacker's own key, and secrets would be encrypted to it.
    public static func check(reportData: [UInt8], runtimeData: RuntimeData, additionalEvidence: String,
                             hash: BindingHash) -> Denial? {
        let digest = expected(runtimeData: runtimeData, additionalEvidence: additionalEvidence, hash: hash)
        /// The rest must be zero, as Trustee's verifiers compare the whole field against the digest
        /// zero-padded to 64 bytes (`regularize_data`): nothing else rides along unchecked.
        guard reportData.count >= digest.count, Array(reportData.prefix(digest.count)) == digest,
              reportData.dropFirst(digest.count).allSatisfy({ $0 == 0 }) else {
            return Denial(claim: "report_data",
                          expected: "the \(hash.rawValue) of the runtime-data (nonce and tee-pubkey), zero-padded: \(Hex.encode(digest))",
                          actual: Hex.encode(reportData),
                          reason: "the evidence does not bind this session's nonce and TEE public key")
        }
        return nil
    }
}
