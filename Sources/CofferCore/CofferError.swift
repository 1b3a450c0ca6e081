/// The one error type Coffer shows a user.
///
/// Leaf modules throw their own small error enums; they are mapped to a `CofferError` once, at the
/// edge (the CLI, the agent's reply), so that every failure reaches the user as a code they can
/// match on, a message they can act on, and the cause that produced it.
public struct CofferError: Error, Sendable, CustomStringConvertible {
    /// An extensible code: new codes are added as static members without breaking callers.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The user gave input that cannot be used (a file, an argument, a request body).
        public static let invalidInput = Code(rawValue: "invalid-input")
        /// Something named does not exist.
        public static let notFound = Code(rawValue: "not-found")
        /// Something exists already and would be overwritten.
        public static let alreadyExists = Code(rawValue: "already-exists")
        /// Measured or signed data did not match what was expected.
        public static let integrity = Code(rawValue: "integrity")
        /// Evidence did not verify.
        public static let attestation = Code(rawValue: "attestation")
        /// A policy refused a request.
        public static let denied = Code(rawValue: "denied")
        /// The input is well formed but uses a feature Coffer does not support.
        public static let unsupported = Code(rawValue: "unsupported")
        /// An operating-system call or an external tool failed.
        public static let system = Code(rawValue: "system")
        /// A deadline passed.
        public static let timeout = Code(rawValue: "timeout")
        /// A bug in Coffer: an invariant did not hold.
        public static let internalError = Code(rawValue: "internal")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message, then the cause unless the message already says it (leaf errors that map
    /// themselves keep themselves as the cause; the user's one line must not say it twice).
    public var description: String {
        guard let cause else { return message }
        let said = "\(cause)"
        return message.contains(said) ? message : "\(message): \(said)"
    }
}

/// A leaf module's error that knows its user-facing form. The edge maps any error through this.
public protocol CofferErrorConvertible: Error {
    var cofferError: CofferError { get }
}

extension CofferError {
    /// `error` as a `CofferError`: itself, its own mapping, or an internal error wrapping it.
    public static func from(_ error: any Error, context: String? = nil) -> CofferError {
        if let error = error as? CofferError { return error }
        if let error = error as? any CofferErrorConvertible { return error.cofferError }
        return CofferError(.internalError, context ?? "unexpected failure: \(error)")
    }
}
