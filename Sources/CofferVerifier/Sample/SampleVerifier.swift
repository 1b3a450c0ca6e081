import CofferCore
import CofferEvidence
import Crypto

/// Verifies Coffer's `sample` evidence: the signature, and that the signer is one the caller
/// trusts. Success says only "a trusted launcher said so" — nothing is hardware-backed.
public enum SampleVerifier {
    public static let warning = "sample evidence: not hardware-backed, protects nothing"

    public static func verify(
        evidence bytes: [UInt8], trustedSigners: [Curve25519.Signing.PublicKey]
    ) -> Result<Claims, VerificationFailure> {
        let evidence: SampleEvidence
        do { evidence = try SampleEvidence(parsing: bytes) } catch {
            return .failure(.init(.malformedEvidence, error.description))
        }
        /// The key inside the evidence is only a claim; trust comes from the caller's list, so
        /// anyone can sign sample evidence but only a configured launcher's is accepted.
        guard trustedSigners.contains(where: { Array($0.rawRepresentation) == evidence.signerPublicKey }) else {
            return .failure(.init(.certificateChain, "sample evidence signer \(Hex.encode(evidence.signerPublicKey)) is not a trusted launcher key"))
        }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: evidence.signerPublicKey),
            key.isValidSignature(evidence.signature, for: evidence.bytesToSign)
        else {
            return .failure(.init(.signature, "sample evidence signature does not verify: the evidence was altered"))
        }
        return .success(Claims(
            tee: .sample, hardwareBacked: false, tcbStatus: nil, advisoryIDs: [],
            measurements: [
                "measurement": Hex.encode(evidence.measurement),
                "host_data": Hex.encode(evidence.hostData),
            ],
            reportData: Hex.encode(evidence.reportData),
            details: ["warning": warning, "signer": Hex.encode(evidence.signerPublicKey), "version": String(evidence.version)]))
    }
}
