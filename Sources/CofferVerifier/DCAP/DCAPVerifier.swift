import CofferCore
import Crypto
import Foundation
import X509

/// Verifies Intel SGX (quote v3) and TDX (quote v4, v5) evidence offline against DCAP collateral.
///
/// The checks follow Intel's QVL, in the order the reference verifier (dcap-qvl) runs them, so
/// that a bundle with several problems reports the same first one: certificate chains to the
/// pinned root, root CA CRL, TCB Info, QE Identity, PCK CRL, QE report signature and binding, QE
/// identity, quote signature, then TCB level matching.
public enum DCAPVerifier {
    /// Forgets the collateral signatures remembered by earlier verifications, so that the next
    /// one checks all nine signatures again (the cold path; see `CollateralSignatureMemo`).
    public static func forgetRememberedCollateral() {
        CollateralSignatureMemo.removeAll()
    }

    /// - Parameters:
    ///   - quote: the quote bytes as the TEE produced them.
    ///   - collateral: PCK CRLs, TCB Info and QE Identity for this platform.
    ///   - at: the verification time; every certificate, CRL and collateral window must contain it.
    ///   - trustedRoot: the root every chain must end in; Intel's SGX Root CA when nil.
    public static func verify(
        quote: [UInt8], collateral: DCAPCollateral, at: Date, trustedRoot: Certificate? = nil
    ) -> Result<Claims, VerificationFailure> {
        do throws(VerificationFailure) {
            return .success(try run(quote: quote, collateral: collateral, at: at, trustedRoot: trustedRoot))
        } catch {
            return .failure(error)
        }
    }

    static func run(
        quote bytes: [UInt8], collateral: DCAPCollateral, at date: Date, trustedRoot: Certificate?
    ) throws(VerificationFailure) -> Claims {
        guard let time = Int64(exactly: date.timeIntervalSince1970.rounded(.down)) else {
            throw VerificationFailure(.expired, "the verification time \(date.timeIntervalSince1970) is not a representable instant")
        }
        let quote = try DCAPQuote(bytes: bytes)
        let root = if let trustedRoot { trustedRoot } else { try IntelSGXRootCA.certificate() }

        // 1. Every chain to the pinned root: PCK (from the quote), TCB Info and QE Identity signers,
        //    and the PCK CRL issuer. Only signatures, CA flags and certificate validity here.
        var cache = collateral.certificates
        let pckChain = try CertificateChain.parsePEM(try quote.pckChainPEM(), name: "PCK certificate chain", cache: &cache)
        let pckPath = try CertificateChain.validate(pckChain, to: root, at: time, name: "PCK certificate chain")
        let pck = pckPath[0], pckCA = pckPath[1]
        let tcbPath = try CertificateChain.validate(collateral.tcbInfoIssuerChain, to: root, at: time, name: "TCB Info signer (tcb_info_issuer_chain)")
        let qePath = try CertificateChain.validate(collateral.qeIdentityIssuerChain, to: root, at: time, name: "QE Identity signer (qe_identity_issuer_chain)")
        let crlPath = try CertificateChain.validate(collateral.pckCRLIssuerChain, to: root, at: time, name: "PCK CRL issuer (pck_crl_issuer_chain)")

        // 2. Root CA CRL: signed by the root, current, revoking neither the root nor a CA under it.
        try checkCRL(collateral.rootCACRL, name: "root CA CRL (root_ca_crl)", issuer: root, at: time)
        if collateral.rootCACRL.revokes(root) {
            throw VerificationFailure(.revocation, "the root CA CRL revokes the trusted root itself")
        }
        for path in [pckPath, tcbPath, qePath, crlPath] { try checkRevocation(path: path, rootCRL: collateral.rootCACRL) }

        // 3. TCB Info: window, signature over the exact body, and the right kind for the quote.
        let info = collateral.tcbInfo
        try checkWindow(issue: info.issueDate, next: info.nextUpdate, name: "TCB Info", at: time)
        try checkSignature(collateral.tcbInfoBody, signature: collateral.tcbInfoSignature, signer: tcbPath[0], name: "TCB Info")
        let expectedInfo = quote.isTDX ? "TDX" : "SGX"
        guard info.id == expectedInfo, quote.isTDX ? info.version >= 3 : info.version >= 2 else {
            throw VerificationFailure(.collateralSignature, "TCB Info is \(info.id) v\(info.version), but the quote is \(expectedInfo)")
        }

        // 4. QE Identity: window, signature, and the right QE for the quote.
        let identity = collateral.qeIdentity
        try checkWindow(issue: identity.issueDate, next: identity.nextUpdate, name: "QE Identity", at: time)
        try checkSignature(collateral.qeIdentityBody, signature: collateral.qeIdentitySignature, signer: qePath[0], name: "QE Identity")
        let expectedQE = quote.isTDX ? "TD_QE" : "QE"
        guard identity.id == expectedQE else {
            throw VerificationFailure(.collateralSignature, "QE Identity is for \(identity.id), but the quote needs \(expectedQE)")
        }

        // 5. PCK CRL: issued by this PCK certificate's CA, current, not revoking the PCK certificate.
        try checkCRL(collateral.pckCRL, name: "PCK CRL (pck_crl)", issuer: pckCA, at: time)
        if collateral.pckCRL.revokes(pck) {
            throw VerificationFailure(.revocation, "the PCK CRL revokes this platform's PCK certificate (serial \(Hex.encode(pck.serialNumber.bytes)))")
        }

        // 6. QE report signed by the PCK key, and bound to the attestation key.
        let qe = quote.signatureData.qe
        guard let pckKey = P256.Signing.PublicKey(pck.publicKey),
              let qeSignature = try? P256.Signing.ECDSASignature(rawRepresentation: qe.qeReportSignature),
              pckKey.isValidSignature(qeSignature, for: qe.qeReportBytes)
        else {
            throw VerificationFailure(.signature, "the QE report signature does not verify under the PCK certificate's key")
        }
        /// The QE report data binds the attestation key: without this check any key could sign a
        /// quote next to a genuine, PCK-signed QE report.
        let binding = Array(SHA256.hash(data: quote.signatureData.attestationKey + qe.qeAuthData)) + [UInt8](repeating: 0, count: 32)
        guard qe.qeReport.reportData == binding else {
            throw VerificationFailure(.signature, "the QE report data is not SHA-256(attestation key ‖ QE auth data): the attestation key is not the QE's")
        }

        // 7. QE identity and its TCB level.
        let qeVerdict = try TCBEvaluation.qe(identity, report: qe.qeReport)

        // 8. Quote signature by the attestation key over header ‖ body.
        guard let attestationKey = try? P256.Signing.PublicKey(rawRepresentation: quote.signatureData.attestationKey),
              let quoteSignature = try? P256.Signing.ECDSASignature(rawRepresentation: quote.signatureData.signature),
              attestationKey.isValidSignature(quoteSignature, for: quote.signedBytes)
        else {
            throw VerificationFailure(.signature, "the quote signature does not verify under the attestation key: header or report body altered")
        }

        // 9. Platform TCB: the collateral must be this platform's, then level matching.
        let extensions = try PCKExtensions(certificate: pck)
        /// TCB Info for another FMSPC lists another CPU family's levels: matching against it would
        /// give a status Intel never assigned to this platform.
        guard extensions.fmspc == info.fmspc, extensions.pceID == info.pceID else {
            throw VerificationFailure(.collateralSignature,
                "TCB Info is for FMSPC \(Hex.encode(info.fmspc)) PCE-ID \(Hex.encode(info.pceID)), the PCK certificate says \(Hex.encode(extensions.fmspc)) \(Hex.encode(extensions.pceID))")
        }
        var teeTCBSVN: [UInt8]? = nil
        var moduleVerdict: TCBVerdict? = nil
        if case .tdx(let body) = quote.body {
            teeTCBSVN = body.base.teeTCBSVN
            moduleVerdict = try TCBEvaluation.tdxModule(info, report: body.base)
        }
        let platform = try TCBEvaluation.platform(info, pck: extensions, teeTCBSVN: teeTCBSVN)

        var status = platform.status
        var advisories = Set(platform.advisoryIDs)
        if let moduleVerdict {
            status = TCBEvaluation.converge(platform: status, with: moduleVerdict.status)
            advisories.formUnion(moduleVerdict.advisoryIDs)
        }
        status = TCBEvaluation.converge(platform: status, with: qeVerdict.status)
        advisories.formUnion(qeVerdict.advisoryIDs)
        guard status != .revoked else {
            throw VerificationFailure(.tcb, "the TCB is revoked (platform \(platform.status.rawValue), QE \(qeVerdict.status.rawValue))")
        }
        return quote.claims(status: status, advisories: advisories.sorted(), details: [
            "qe_tcb_status": qeVerdict.status.rawValue,
            "platform_tcb_status": platform.status.rawValue,
            "ppid": Hex.encode(extensions.ppid),
            "fmspc": Hex.encode(extensions.fmspc),
        ])
    }

    static func checkWindow(issue: Int64, next: Int64, name: String, at time: Int64) throws(VerificationFailure) {
        guard issue <= time else {
            throw VerificationFailure(.expired, "\(name) is not yet valid: issued \(IntelTimestamp.render(issue)) (\(issue)), after the verification time \(IntelTimestamp.render(time))")
        }
        guard time <= next else {
            throw VerificationFailure(.expired, "\(name) expired: next update was \(IntelTimestamp.render(next)) (\(next)), before the verification time \(IntelTimestamp.render(time)); fetch fresh collateral")
        }
    }

    /// A CRL must be signed by its issuer and current: a stale CRL would hide revocations made since.
    static func checkCRL(_ crl: CertificateRevocationList, name: String, issuer: Certificate, at time: Int64) throws(VerificationFailure) {
        /// Collateral: the signature check may be remembered (`CollateralSignatureMemo`); the window is checked below every time.
        guard crl.issuer == issuer.subject,
              CollateralSignatureMemo.isValid(.crl, key: issuer.tbsCertificateBytes, signature: crl.signature, message: crl.tbsBytes,
                                              check: { crl.isSigned(by: issuer) })
        else {
            throw VerificationFailure(.revocation, "\(name) is not signed by \"\(issuer.subject)\"")
        }
        guard let next = crl.nextUpdate else {
            throw VerificationFailure(.revocation, "\(name) has no nextUpdate")
        }
        try checkWindow(issue: crl.thisUpdate, next: next, name: name, at: time)
    }

    /// Certificates directly under the root (PCK CA, TCB signing) must not be on the root CA CRL.
    static func checkRevocation(path: [Certificate], rootCRL: CertificateRevocationList) throws(VerificationFailure) {
        guard path.count >= 2 else { return }
        let underRoot = path[path.count - 2]
        if rootCRL.revokes(underRoot) {
            throw VerificationFailure(.revocation, "the root CA CRL revokes \"\(underRoot.subject)\"")
        }
    }

    /// Verifies a collateral signature (raw r‖s over the exact body bytes) by the signer's key.
    static func checkSignature(_ body: [UInt8], signature: [UInt8], signer: Certificate, name: String) throws(VerificationFailure) {
        /// Intel signs the JSON text itself: verifying the received bytes (not a re-encoding) means
        /// no parser difference can make signed and evaluated content differ.
        /// Collateral: the signature check may be remembered (`CollateralSignatureMemo`); windows are checked by the caller every time.
        let verifies = CollateralSignatureMemo.isValid(.collateralBody, key: signer.tbsCertificateBytes, signature: signature, message: body) {
            guard let key = P256.Signing.PublicKey(signer.publicKey),
                  let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(ecdsa, for: body)
        }
        guard verifies else {
            throw VerificationFailure(.collateralSignature, "the \(name) signature does not verify under \"\(signer.subject)\": body or signature altered")
        }
    }
}
