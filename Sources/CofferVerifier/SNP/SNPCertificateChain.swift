import CofferCore
import CofferEvidence
import Foundation

/// The AMD chain behind one report: ARK (self-signed, pinned) → ASK or ASVK → VCEK or VLEK.
///
/// Which intermediate and leaf are acceptable follows the report's SIGNING_KEY, as AMD's KDS
/// names them: a VCEK ("SEV-VCEK") is issued by the ASK ("SEV-<product>"), a VLEK ("SEV-VLEK")
/// by the ASVK ("SEV-VLEK-<product>").
struct SNPCertificateChain {
    var ark: AMDCertificate
    var intermediate: AMDCertificate
    var leaf: AMDCertificate

    static func resolve(
        _ collateral: SNPCollateral, signingKey: SNPReport.SigningKey, trustedARKs: [AMDTrustAnchor]
    ) -> Result<SNPCertificateChain, VerificationFailure> {
        let leaf = collateral.leaf
        let leafName = leaf.subjectCommonName ?? "(no common name)"
        let expectedLeaf = signingKey == .vcek ? "SEV-VCEK" : "SEV-VLEK"
        /// A VLEK and a VCEK vouch for different things (a cloud provider's key vs. one chip's);
        /// the report names its signer, and the certificate must be of that kind.
        guard leafName == expectedLeaf else {
            return .failure(.init(.certificateChain, "the report is signed by its \(expectedLeaf.dropFirst(4)) but the certificate is \(leafName)"))
        }
        guard let intermediate = collateral.chain.first(where: { $0.subject == leaf.issuer && $0.issuer != $0.subject }) else {
            return .failure(.init(.certificateChain, "cert_chain has no certificate named \(leaf.issuerCommonName ?? "?"), the issuer of \(leafName)"))
        }
        let intermediateName = intermediate.subjectCommonName ?? ""
        let isASVK = intermediateName.hasPrefix("SEV-VLEK-")
        guard intermediateName.hasPrefix("SEV-"), isASVK == (signingKey == .vlek) else {
            return .failure(.init(.certificateChain, "\(leafName) is issued by \(intermediateName), which is not an AMD \(signingKey == .vcek ? "ASK" : "ASVK")"))
        }
        guard let ark = collateral.chain.first(where: { $0.subject == intermediate.issuer && $0.issuer == $0.subject }) else {
            return .failure(.init(.certificateChain, "cert_chain has no self-signed root named \(intermediate.issuerCommonName ?? "?"), the issuer of \(intermediateName)"))
        }
        let arkName = ark.subjectCommonName ?? "ARK"
        /// The root's key, not its name, is what makes the chain AMD's: anyone can mint a
        /// self-signed "ARK-Milan".
        guard trustedARKs.contains(where: { $0.subjectPublicKeyInfoSHA256 == ark.subjectPublicKeyInfoSHA256 }) else {
            return .failure(.init(.certificateChain, "root \(arkName) (key SHA-256 \(Hex.encode(ark.subjectPublicKeyInfoSHA256))) is not a trusted AMD root"))
        }
        guard ark.isSigned(by: ark) else {
            return .failure(.init(.certificateChain, "root \(arkName) is not validly self-signed (RSA-PSS SHA-384)"))
        }
        guard intermediate.isSigned(by: ark) else {
            return .failure(.init(.certificateChain, "\(intermediateName) is not signed by \(arkName) (RSA-PSS SHA-384)"))
        }
        guard leaf.isSigned(by: intermediate) else {
            return .failure(.init(.certificateChain, "\(leafName) is not signed by \(intermediateName) (RSA-PSS SHA-384)"))
        }
        return .success(SNPCertificateChain(ark: ark, intermediate: intermediate, leaf: leaf))
    }

    /// Every certificate must be inside its validity window at the verification time.
    func checkValidity(at date: Date) -> VerificationFailure? {
        for certificate in [ark, intermediate, leaf] where !certificate.isValid(at: date) {
            let name = certificate.subjectCommonName ?? "certificate"
            return .init(
                .expired,
                "certificate \(name) is valid from \(certificate.notBefore) to \(certificate.notAfter), not at \(date)")
        }
        return nil
    }
}
