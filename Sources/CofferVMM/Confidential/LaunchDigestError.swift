import CofferCore

/// Why a confidential launch's hardware measurement cannot be predicted: the firmware image is not
/// one the TEE can launch as asked, or an input is out of range. Mapped once to `CofferError`.
public enum LaunchDigestError: Error, Sendable, Equatable, CustomStringConvertible, CofferErrorConvertible {
    /// The firmware image lacks a structure the launch needs, or carries a malformed one.
    case firmware(String)
    /// A launch input (vCPU count or type, guest features, a file) is not usable.
    case input(String)

    public var description: String {
        switch self {
        case .firmware(let reason): "firmware: \(reason)"
        case .input(let reason): reason
        }
    }

    public var cofferError: CofferError { CofferError(.invalidInput, description) }
}
