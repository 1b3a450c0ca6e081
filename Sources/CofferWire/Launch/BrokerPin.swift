import CofferCore

/// The key broker an image was built for (`coffer build --kbs-key`, decision 0037), on the guest
/// kernel's measured command line as `coffer.kbs=sha256:<hex>`: the SHA-256 of the broker signing key's
/// SubjectPublicKeyInfo (DER). The launcher writes it from the image's manifest, so the image id
/// and the launch measurement both cover it; the agent then takes resources only from a broker
/// whose identity in the measured init-data hashes to it.
///
/// Why this and not the init-data alone: a host that writes its own broker into the init-data
/// changes the launch measurement, so the real broker refuses it — but the guest would still
/// accept the substitute's resources (a volume key it chose, secrets it made up). Pinned, such a
/// launch stops before it asks anything.
public struct BrokerPin: Sendable, Equatable {
    public static let parameterName = "coffer.kbs"

    /// SHA-256 of the key's SubjectPublicKeyInfo DER.
    public var digest: [UInt8]

    /// The pin of a key whose SubjectPublicKeyInfo is `spki` (DER bytes).
    public init(subjectPublicKeyInfo spki: [UInt8]) { digest = SHA256Digest.hash(spki) }

    public init(digest: [UInt8]) throws(FieldError) {
        guard digest.count == 32 else { throw FieldError("a broker pin is a SHA-256 digest (32 bytes), not \(digest.count) bytes") }
        self.digest = digest
    }

    /// `sha256:<hex>`, as `coffer inspect` and the errors print it.
    public var description: String { "sha256:" + Hex.encode(digest) }

    public var kernelArgument: String { Self.parameterName + "=" + description }

    /// The pin on `commandLine`, nil when the image pins no broker; one that is not `sha256:` and
    /// 64 lower-case hex digits is refused.
    public static func parse(commandLine: KernelCommandLine) throws(FieldError) -> BrokerPin? {
        guard let parameter = commandLine.parameter(parameterName) else { return nil }
        let value = parameter.value ?? ""
        let hex = value.hasPrefix("sha256:") ? String(value.dropFirst(7)) : ""
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
              let digest = Hex.decode(hex) else {
            throw FieldError("\(parameterName)=\(value.prefix(80)) is not sha256: and 64 lower-case hex digits")
        }
        return try BrokerPin(digest: digest)
    }
}
