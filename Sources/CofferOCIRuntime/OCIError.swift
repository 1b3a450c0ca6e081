import CofferCore

/// What coffer-runtime reports when it, rather than runc, refuses a command.
public enum OCIError: Error, Sendable, CustomStringConvertible, CofferErrorConvertible {
    /// The bundle's config.json cannot be read or is not valid JSON.
    case invalidBundle(String)
    /// The enclave settings cannot be used (type, PAL path).
    case invalidEnclave(String)
    /// The PAL host reported a failure (load, symbols, version, pal_init) or vanished.
    case enclaveRuntime(String)
    /// A system call or a tool (runc, ldd) failed.
    case system(String)
    /// The command or option is not supported for enclave containers.
    case unsupported(String)

    public var description: String {
        switch self {
        case .invalidBundle(let m), .invalidEnclave(let m), .enclaveRuntime(let m), .system(let m), .unsupported(let m): m
        }
    }

    public var cofferError: CofferError {
        switch self {
        case .invalidBundle(let m), .invalidEnclave(let m): CofferError(.invalidInput, m, cause: self)
        case .enclaveRuntime(let m): CofferError(.system, m, cause: self)
        case .system(let m): CofferError(.system, m, cause: self)
        case .unsupported(let m): CofferError(.unsupported, m, cause: self)
        }
    }
}
