import CofferCore

/// Why an enclave's SGXS stream or SIGSTRUCT cannot be measured, read or trusted.
///
/// Every case names the structure and field, so an owner can tell a truncated download from a
/// stream Coffer does not measure, or a signature that does not verify.
public enum SGXEnclaveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input ended inside the field the cause names (`what` is "SGXS stream" or "SIGSTRUCT").
    case truncated(what: String, ByteReader.Truncated)
    /// `field` of `what` holds a value that is not accepted (`detail` says which and why).
    case badValue(what: String, field: String, detail: String)
    /// The SIGSTRUCT's RSA signature, or its Q1/Q2, does not check (`detail` says which).
    case badSignature(detail: String)
    /// The SIGSTRUCT signs another enclave: its ENCLAVEHASH is not the computed MRENCLAVE.
    case enclaveHashMismatch(enclaveHash: String, mrEnclave: String)
    /// A signing key SGX cannot use (SGX requires RSA-3072 with public exponent 3).
    case unusableKey(detail: String)

    public var description: String {
        switch self {
        case .truncated(let what, let cause): "\(what) \(cause)"
        case .badValue(let what, let field, let detail): "\(what) field \(field): \(detail)"
        case .badSignature(let detail): "SIGSTRUCT signature does not verify: \(detail)"
        case .enclaveHashMismatch(let enclaveHash, let mrEnclave):
            "SIGSTRUCT ENCLAVEHASH \(enclaveHash) is not the enclave's MRENCLAVE \(mrEnclave): it signs another enclave"
        case .unusableKey(let detail): "signing key: \(detail)"
        }
    }
}

extension SGXEnclaveError: CofferErrorConvertible {
    public var cofferError: CofferError {
        switch self {
        case .truncated, .badValue, .unusableKey: CofferError(.invalidInput, description, cause: self)
        case .badSignature, .enclaveHashMismatch: CofferError(.integrity, description, cause: self)
        }
    }
}
