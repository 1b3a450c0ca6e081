import Foundation

import CofferVerifier
import CofferJSON

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
    /// Formats: `toml` (what guest-components sends; the only one Trustee's built-in AS takes) and
    /// `json`. Only the top-level `algorithm` is read: the digest covers the body's exact bytes.
    public static func digest(_ initData: InitData) throws(KBSFailure) -> [UInt8] {
        let name: String?
        switch initData.format {
        case "toml": name = tomlAlgorithm(initData.body)
        case "json": name = try? JSONValue.parse(Array(initData.body.utf8))["algorithm"]?.stringValue
        default: throw .badRequest("init-data.format \"\(initData.format.prefix(16))\" is not supported: use toml or json")
        }
        guard let name else { throw .badRequest("init-data.body has no top-level algorithm (sha256, sha384 or sha512)") }
        guard let hash = BindingHash(rawValue: name) else {
            throw .badRequest("init-data algorithm \"\(name.prefix(16))\" is not supported: use sha256, sha384 or sha512")
        }
        return hash.digest(Array(initData.body.utf8))
    }

    /// Security: init-data (agent policy, KBS address, configuration) comes from the untrusted
    /// host; only the TEE's launch-time field vouches for it. A workload presenting init-data
    /// that is not the one it was launched with is refused, naming the field.
    public static func check(_ initData: InitData, claims: Claims) throws(KBSFailure) -> Denial? {
        let (claim, length) = field(for: claims.tee)
        var expected = try digest(initData)
        if expected.count > length { expected = Array(expected.prefix(length)) }
        expected += [UInt8](repeating: 0, count: length - expected.count)
        let hex = ReportDataBinding.hexString(expected)
        let actual = claims.measurements[claim]?.lowercased()
        guard actual == hex else {
            return Denial(claim: claim, expected: hex, actual: actual ?? "absent",
                          reason: "the evidence's \(claim) is not the digest of the init-data presented")
        }
        return nil
    }

    /// `algorithm = "sha384"` (or single-quoted) before the first table header.
    static func tomlAlgorithm(_ body: String) -> String? {
        for raw in body.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { return nil }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == "algorithm" || parts[0] == "\"algorithm\"" else { continue }
            var value = Substring(parts[1])
            if let hash = value.firstIndex(of: "#"), !value.hasPrefix("\"") && !value.hasPrefix("'") { value = value[..<hash] }
            value = Substring(value.trimmingCharacters(in: .whitespaces))
            guard value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", let end = value.dropFirst().firstIndex(of: quote) else { return nil }
            return String(value[value.index(after: value.startIndex)..<end])
        }
        return nil
    }
}
