import Crypto

/// The hash algorithms of the broker protocol (`kbs-types` `HashAlgorithm`, lower-case names):
/// what binds the runtime data into the evidence's report data, and what an init-data document
/// names as its own digest.
public enum BindingHash: String, Sendable, Codable, CaseIterable {
    case sha256, sha384, sha512

    public func digest(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: bytes))
        case .sha384: Array(SHA384.hash(data: bytes))
        case .sha512: Array(SHA512.hash(data: bytes))
        }
    }
}
