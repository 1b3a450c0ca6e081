import CofferCore

/// An AMD Root Key (ARK) Coffer trusts, pinned by the SHA-256 of its SubjectPublicKeyInfo.
///
/// Pinning the key rather than a certificate file means a collateral bundle may carry any copy
/// of the ARK certificate, but only one whose self-signature verifies under a pinned key counts.
public struct AMDTrustAnchor: Sendable, Hashable {
    public var name: String
    public var subjectPublicKeyInfoSHA256: [UInt8]

    public init(name: String, subjectPublicKeyInfoSHA256: [UInt8]) {
        self.name = name
        self.subjectPublicKeyInfoSHA256 = subjectPublicKeyInfoSHA256
    }

    public init(_ certificate: AMDCertificate, name: String? = nil) {
        self.init(name: name ?? certificate.subjectCommonName ?? "ARK", subjectPublicKeyInfoSHA256: certificate.subjectPublicKeyInfoSHA256)
    }

    /// ARK-Milan, serial 01 00 00, valid 2020-10-22 to 2045-10-22; the ARK of both
    /// google/go-sev-guest's ask_ark_milan.pem and Trustee's milan_ask_ark_asvk.pem.
    public static let milan = AMDTrustAnchor(
        name: "ARK-Milan",
        subjectPublicKeyInfoSHA256: Hex.decode("9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9") ?? [])

    /// The roots trusted when a caller passes none. Genoa and Turin ARKs are not pinned yet: a
    /// caller that needs them passes them explicitly.
    public static let builtIn: [AMDTrustAnchor] = [.milan]
}
