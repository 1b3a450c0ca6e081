import CofferKBSProtocol
import CofferVerifier

extension KBSTee {
    /// The verifier's TEE type for each `kbs-types` name.
    public var teeType: TEEType {
        switch self {
        case .sgx: .sgx
        case .tdx: .tdx
        case .snp: .snp
        case .sample: .sample
        }
    }
}
