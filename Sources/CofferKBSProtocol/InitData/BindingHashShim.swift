// TEMPORARY until the protocol split lands: BindingHash moves here from CofferKBS.
import Crypto

public enum BindingHash: String, Sendable, CaseIterable {
    case sha256, sha384, sha512

    public func digest(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: bytes))
        case .sha384: Array(SHA384.hash(data: bytes))
        case .sha512: Array(SHA512.hash(data: bytes))
        }
    }
}
