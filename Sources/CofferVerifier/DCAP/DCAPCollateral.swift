import CofferCore
import Foundation
import SwiftASN1
import X509

/// Everything besides the quote that DCAP verification needs, read from a bundle file so that
/// verification works offline.
///
/// The JSON layout is the one of the vectors in ../shared/vectors (dcap-qvl's `QuoteCollateralV3`):
/// `pck_crl_issuer_chain`, `tcb_info_issuer_chain`, `qe_identity_issuer_chain` (PEM);
/// `root_ca_crl`, `pck_crl` (hex of DER, or PEM); `tcb_info`, `qe_identity` (the signed JSON bodies,
/// as strings); `tcb_info_signature`, `qe_identity_signature` (hex of raw r‖s).
public struct DCAPCollateral: Sendable {
    var pckCRLIssuerChain: [Certificate]
    var rootCACRL: CertificateRevocationList
    var pckCRL: CertificateRevocationList
    var tcbInfoIssuerChain: [Certificate]
    /// The exact bytes Intel signed: verification runs over these, never over a re-encoding.
    var tcbInfoBody: [UInt8]
    var tcbInfo: TCBInfo
    var tcbInfoSignature: [UInt8]
    var qeIdentityIssuerChain: [Certificate]
    var qeIdentityBody: [UInt8]
    var qeIdentity: QEIdentity
    var qeIdentitySignature: [UInt8]
    /// Every certificate of the bundle by its PEM text: a quote's PCK CA is usually the very
    /// certificate `pck_crl_issuer_chain` starts with, and is then not parsed again.
    var certificates: [Substring: Certificate]

    public init(json: Data) throws(VerificationFailure) {
        let bundle = try CollateralObject(parsing: json, path: "collateral")
        /// The three issuer chains share certificates (TCB signing, root): parse each block once.
        var cache: [Substring: Certificate] = [:]
        /// Every field is a string; a missing (or null) one is named.
        func field(_ key: String) throws(VerificationFailure) -> String {
            guard let value = try bundle.optionalString(key) else {
                throw VerificationFailure(.malformedCollateral, "collateral field \(key) is missing")
            }
            return value
        }
        func chain(_ key: String) throws(VerificationFailure) -> [Certificate] {
            let text = try field(key)
            do { return try CertificateChain.parsePEM(text, name: key, cache: &cache) } catch {
                throw VerificationFailure(.malformedCollateral, error.message)
            }
        }
        func crl(_ key: String) throws(VerificationFailure) -> CertificateRevocationList {
            let text = try field(key)
            let der: [UInt8]?
            if text.utf8.first(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }) == UInt8(ascii: "-") {
                der = (try? PEMDocument(pemString: text)).map { Array($0.derBytes) }
            } else {
                der = Hex.decode(text)
            }
            guard let der else {
                throw VerificationFailure(.malformedCollateral, "collateral field \(key) is neither hex of a DER CRL nor PEM")
            }
            do { return try CertificateRevocationList(derEncoded: der) } catch {
                throw VerificationFailure(.malformedCollateral, "collateral field \(key) is not a CRL: \(error)")
            }
        }
        func signature(_ key: String) throws(VerificationFailure) -> [UInt8] {
            guard let bytes = Hex.decode(try field(key)), bytes.count == 64 else {
                throw VerificationFailure(.malformedCollateral, "collateral field \(key) is not 64 bytes of hex (ECDSA r‖s)")
            }
            return bytes
        }
        pckCRLIssuerChain = try chain("pck_crl_issuer_chain")
        rootCACRL = try crl("root_ca_crl")
        pckCRL = try crl("pck_crl")
        tcbInfoIssuerChain = try chain("tcb_info_issuer_chain")
        tcbInfoBody = Array(try field("tcb_info").utf8)
        tcbInfo = try TCBInfo(body: tcbInfoBody)
        tcbInfoSignature = try signature("tcb_info_signature")
        qeIdentityIssuerChain = try chain("qe_identity_issuer_chain")
        qeIdentityBody = Array(try field("qe_identity").utf8)
        qeIdentity = try QEIdentity(body: qeIdentityBody)
        qeIdentitySignature = try signature("qe_identity_signature")
        certificates = cache
    }
}
