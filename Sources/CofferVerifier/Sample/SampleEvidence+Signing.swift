import CofferEvidence
import Crypto

extension SampleEvidence {
    /// Builds and signs sample evidence with the launcher's Ed25519 key (host side only).
    public static func signed(
        measurement: [UInt8], hostData: [UInt8], reportData: [UInt8], by key: Curve25519.Signing.PrivateKey
    ) throws -> SampleEvidence {
        var evidence = try SampleEvidence(
            measurement: measurement, hostData: hostData, reportData: reportData,
            signerPublicKey: Array(key.publicKey.rawRepresentation))
        evidence.signature = Array(try key.signature(for: evidence.bytesToSign))
        return evidence
    }
}
