import CofferCore

/// The launch's init-data digest on the guest kernel's measured command line
/// (`coffer.initdata=sha384:<hex>`, decision 0022): the agent takes the init-data the host hands
/// it only if the document hashes to this, by the algorithm named here (which must also be the one
/// the document itself names). The launch measurement covers the line, so a host that changes the
/// broker, the secrets or the volumes changes the measurement.
public struct MeasuredInitData: Sendable, Equatable {
    public static let parameterName = "coffer.initdata"
    public static let algorithms = ["sha256": 32, "sha384": 48, "sha512": 64]

    /// `sha256`, `sha384` or `sha512`.
    public var algorithm: String
    public var digest: [UInt8]

    public init(algorithm: String, digest: [UInt8]) throws(FieldError) {
        guard let size = Self.algorithms[algorithm] else { throw FieldError("init-data algorithm \(algorithm.prefix(16)) is not sha256, sha384 or sha512") }
        guard digest.count == size else { throw FieldError("a \(algorithm) digest has \(size) bytes, not \(digest.count)") }
        self.algorithm = algorithm
        self.digest = digest
    }

    public var kernelArgument: String { "\(Self.parameterName)=\(algorithm):\(Hex.encode(digest))" }

    /// The digest on `commandLine`, nil when the launch has no init-data.
    public static func parse(commandLine: KernelCommandLine) throws(FieldError) -> MeasuredInitData? {
        guard let parameter = commandLine.parameter(parameterName) else { return nil }
        let value = parameter.value ?? ""
        let parts = value.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[1].utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
              let digest = Hex.decode(String(parts[1])) else {
            throw FieldError("\(parameterName)=\(value.prefix(80)) is not ALGORITHM:HEX")
        }
        return try MeasuredInitData(algorithm: String(parts[0]), digest: digest)
    }
}
