import CofferCore
import CofferEvidence
import Crypto
import Foundation

/// Verifies an AMD SEV-SNP attestation report offline against its VCEK/VLEK certificate chain.
///
/// Checks, in order: the report parses (versions 2 to 5, Milan/Genoa TCB layout); the chain
/// ARK → ASK/ASVK → VCEK/VLEK (RSA-PSS) ends in a pinned ARK; every certificate is valid at `at`;
/// the report is signed by the leaf (ECDSA P-384, SHA-384 over bytes 0..<0x2A0); a VCEK's hwID is
/// the report's CHIP_ID; the leaf's TCB equals REPORTED_TCB and does not exceed CURRENT_TCB.
/// The TCB status is REPORTED_TCB against `options.minimumTCB` (`NotEvaluated` without one).
public enum SNPVerifier {
    /// The report's SIGNATURE_ALGO 1 fixes the curve's scalar size: 48 bytes of each 72-byte field.
    static let scalarSize = 48

    public static func verify(
        report bytes: [UInt8], collateral: SNPCollateral, at date: Date,
        trustedARKs: [AMDTrustAnchor] = AMDTrustAnchor.builtIn, options: SNPVerificationOptions = SNPVerificationOptions()
    ) -> Result<Claims, VerificationFailure> {
        let report: SNPReport
        do { report = try SNPReport(parsing: bytes) } catch { return .failure(.init(.malformedEvidence, error.description)) }
        /// Turin (family 1Ah) packs TCB_VERSION differently; comparing it with the Milan/Genoa
        /// layout would compare the wrong bytes, so refuse instead of guessing.
        if let family = report.cpuidFamily, family != 0x19 {
            return .failure(.init(.malformedEvidence, "SEV-SNP report from CPU family 0x\(String(family, radix: 16)); only family 19h (Milan, Genoa) TCB layout is supported"))
        }
        let chain: SNPCertificateChain
        switch SNPCertificateChain.resolve(collateral, signingKey: report.signingKey, trustedARKs: trustedARKs) {
        case .success(let resolved): chain = resolved
        case .failure(let failure): return .failure(failure)
        }
        if let failure = chain.checkValidity(at: date) { return .failure(failure) }
        if let failure = checkSignature(report, leaf: chain.leaf) { return .failure(failure) }
        let extensions: EndorsementKeyExtensions
        do { extensions = try EndorsementKeyExtensions(chain.leaf) } catch {
            return .failure(.init(.certificateChain, "\(chain.leaf.subjectCommonName ?? "leaf"): \(error)"))
        }
        /// go-sev-guest checks the same: a VCEK is one chip's key, so its hwID must be the chip
        /// that reports (unless the guest masked CHIP_ID to zeros, which the VCEK's signature
        /// already makes harmless).
        if report.signingKey == .vcek, report.chipID.contains(where: { $0 != 0 }), extensions.hardwareID != report.chipID {
            return .failure(.init(.certificateChain, "the VCEK certificate's hwID is not this report's CHIP_ID \(Hex.encode(report.chipID)): it belongs to another chip"))
        }
        if let failure = checkTCB(report, certified: extensions.tcb) { return .failure(failure) }
        return .success(claims(report, extensions: extensions, options: options))
    }

    /// Same, from a collateral JSON bundle (see `SNPCollateral`).
    public static func verify(
        report bytes: [UInt8], collateralJSON: Data, at date: Date,
        trustedARKs: [AMDTrustAnchor] = AMDTrustAnchor.builtIn, options: SNPVerificationOptions = SNPVerificationOptions()
    ) -> Result<Claims, VerificationFailure> {
        do {
            return verify(report: bytes, collateral: try SNPCollateral(json: collateralJSON), at: date, trustedARKs: trustedARKs, options: options)
        } catch {
            return .failure(.init(.malformedCollateral, error.description))
        }
    }

    /// ECDSA P-384 over SHA-384 of the signed bytes; R and S come little-endian and zero-padded.
    static func checkSignature(_ report: SNPReport, leaf: AMDCertificate) -> VerificationFailure? {
        let name = leaf.subjectCommonName ?? "leaf certificate"
        guard let key = try? P384.Signing.PublicKey(derRepresentation: leaf.subjectPublicKeyInfo) else {
            return .init(.certificateChain, "\(name) does not hold an ECDSA P-384 public key")
        }
        /// Non-zero padding would make several byte strings one signature; reject it.
        let r = report.signatureR, s = report.signatureS
        guard r[scalarSize...].allSatisfy({ $0 == 0 }), s[scalarSize...].allSatisfy({ $0 == 0 }) else {
            return .init(.signature, "SEV-SNP report signature R or S exceeds 48 bytes")
        }
        let raw = Array(r[..<scalarSize].reversed()) + Array(s[..<scalarSize].reversed())
        guard let signature = try? P384.Signing.ECDSASignature(rawRepresentation: raw),
            key.isValidSignature(signature, for: SHA384.hash(data: report.signedBytes))
        else {
            return .init(.signature, "SEV-SNP report signature does not verify with the \(name) key: the report was altered or another key signed it")
        }
        return nil
    }

    /// The certificate must be the one issued for the TCB the report claims.
    ///
    /// As google/go-sev-guest's validate package does (Trustee checks the same four SPLs for
    /// equality): REPORTED_TCB must equal the certificate's TCB exactly — a key issued for an
    /// older TCB must not vouch for a report claiming a newer one, and one issued for a newer TCB
    /// means the host did not provide the certificate for the machine's actual state — and the
    /// certificate's TCB must not exceed CURRENT_TCB, component by component.
    static func checkTCB(_ report: SNPReport, certified: SNPTCBVersion) -> VerificationFailure? {
        guard report.reportedTCB == certified else {
            return .init(.tcb, "REPORTED_TCB (\(report.reportedTCB)) is not the TCB of the certificate (\(certified))")
        }
        let exceeds = zip(certified.bytes, report.currentTCB.bytes).contains { $0 > $1 }
        guard !exceeds else {
            return .init(.tcb, "the certificate's TCB (\(certified)) exceeds CURRENT_TCB (\(report.currentTCB))")
        }
        return nil
    }

    /// Integers are rendered as fixed-width big-endian hex numbers (POLICY 0x30000 →
    /// "0000000000030000"), byte strings as their bytes in hex.
    ///
    /// Security: the status is never `UpToDate` by default — a valid VCEK proves only which TCB the
    /// chip runs, not that it is patched; only a caller-named minimum makes it `UpToDate`.
    static func claims(_ report: SNPReport, extensions: EndorsementKeyExtensions, options: SNPVerificationOptions) -> Claims {
        func number<T: FixedWidthInteger>(_ value: T) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: max(0, T.bitWidth / 4 - digits.count)) + digits
        }
        var details = [
            "report_version": String(report.version),
            "signing_key": report.signingKey == .vcek ? "vcek" : "vlek",
            "vmpl": String(report.vmpl),
            "reported_tcb_parts": report.reportedTCB.description,
            "minimum_tcb": options.minimumTCB?.description ?? "none",
            // Surfaced so a policy can refuse it by name: a debuggable guest is readable by the host.
            "debug": String(report.debugAllowed),
        ]
        if let product = extensions.productName { details["product"] = product }
        if let csp = extensions.cspID { details["csp_id"] = csp }
        return Claims(
            tee: .snp, hardwareBacked: true, tcbStatus: options.status(of: report.reportedTCB), advisoryIDs: [],
            measurements: [
                "measurement": Hex.encode(report.measurement),
                "host_data": Hex.encode(report.hostData),
                "id_key_digest": Hex.encode(report.idKeyDigest),
                "author_key_digest": Hex.encode(report.authorKeyDigest),
                "family_id": Hex.encode(report.familyID),
                "image_id": Hex.encode(report.imageID),
                "policy": number(report.policy),
                "guest_svn": number(report.guestSVN),
                "reported_tcb": number(report.reportedTCB.raw),
                "chip_id": Hex.encode(report.chipID),
            ],
            reportData: Hex.encode(report.reportData), details: details)
    }
}
