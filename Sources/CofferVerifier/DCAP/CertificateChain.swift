import Foundation
import X509

/// Checks an Intel certificate chain (PCK leaf → PCK CA, or TCB signing → root) up to a pinned root.
///
/// The checks are the RFC 5280 ones that matter for Intel's fixed three-level hierarchy, done with
/// swift-certificates: each certificate's issuer name is the next one's subject and its signature
/// verifies under the next one's key, every issuer is a CA, and every certificate (the root
/// included) is valid at the verification time. Revocation is checked by the caller with the CRLs.
enum CertificateChain {
    /// Splits concatenated PEM into certificates. `name` says which collateral field or quote part
    /// they came from. Trailing copies of the pinned Intel root are dropped unparsed (validation
    /// drops trailing self-signed certificates anyway: only the caller's root is trusted), and
    /// blocks already in `cache` are not parsed again.
    static func parsePEM(
        _ text: String, name: String, cache: inout [Substring: Certificate]
    ) throws(VerificationFailure) -> [Certificate] {
        var blocks = pemBlocks(text)
        guard !blocks.isEmpty else {
            throw VerificationFailure(.certificateChain, "\(name): no complete PEM certificate found")
        }
        while blocks.count > 1, let last = blocks.last, last == IntelSGXRootCA.pemBlock { blocks.removeLast() }
        var certificates: [Certificate] = []
        for block in blocks {
            if let known = cache[block] {
                certificates.append(known)
                continue
            }
            do {
                guard let der = PEMBase64.der(ofBlock: block) else {
                    throw VerificationFailure(.certificateChain, "\(name): certificate \(certificates.count + 1) is not valid base64 PEM")
                }
                let certificate = try Certificate(derEncoded: der)
                cache[block] = certificate
                certificates.append(certificate)
            } catch let failure as VerificationFailure {
                throw failure
            } catch {
                throw VerificationFailure(.certificateChain, "\(name): certificate \(certificates.count + 1) does not parse: \(error)")
            }
        }
        return certificates
    }

    /// The `-----BEGIN CERTIFICATE-----` … `-----END CERTIFICATE-----` blocks of `text`, found by a
    /// byte scan (no locale-aware string search on this hot path).
    static func pemBlocks(_ text: String) -> [Substring] {
        let begin = Array("-----BEGIN CERTIFICATE-----".utf8), end = Array("-----END CERTIFICATE-----".utf8)
        let bytes = Array(text.utf8)
        func find(_ needle: [UInt8], from: Int) -> Int? {
            guard bytes.count >= needle.count else { return nil }
            var i = from
            while i <= bytes.count - needle.count {
                if bytes[i] == needle[0], bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
                i += 1
            }
            return nil
        }
        var blocks: [Substring] = []
        var offset = 0
        while let start = find(begin, from: offset), let stop = find(end, from: start + begin.count) {
            let lower = text.utf8.index(text.utf8.startIndex, offsetBy: start)
            let upper = text.utf8.index(text.utf8.startIndex, offsetBy: stop + end.count)
            blocks.append(Substring(text[lower..<upper]))
            offset = stop + end.count
        }
        return blocks
    }

    /// Returns the validated path [leaf, intermediates…, root]. Certificates at the end of `chain`
    /// that are self-issued (the sender's copy of a root) are dropped: only `root` is trusted.
    static func validate(
        _ chain: [Certificate], to root: Certificate, at time: Int64, name: String
    ) throws(VerificationFailure) -> [Certificate] {
        var certificates = chain
        while let last = certificates.last, last.subject == last.issuer { certificates.removeLast() }
        guard !certificates.isEmpty else {
            throw VerificationFailure(.certificateChain, "\(name): the chain holds only self-signed certificates, no leaf")
        }
        let path = certificates + [root]
        for index in 0..<(path.count - 1) {
            let subject = path[index], issuer = path[index + 1]
            guard subject.issuer == issuer.subject else {
                throw VerificationFailure(.certificateChain,
                    "\(name): \"\(subject.subject)\" is issued by \"\(subject.issuer)\", not by \"\(issuer.subject)\" (is the root right?)")
            }
            /// The signature binds each certificate to its issuer: this is what stops a forged PCK
            /// certificate (and so forged TCB values and a forged QE key) from being accepted.
            /// Certificates signed by the root (PCK CA, TCB signing) are collateral, shared by every
            /// quote: their check goes through `CollateralSignatureMemo` (see there why that is
            /// safe). The leaf under them (the quote's PCK certificate) is verified every time.
            let verifies: Bool
            if index == path.count - 2 {
                verifies = CollateralSignatureMemo.isValid(
                    .certificate, key: issuer.tbsCertificateBytes,
                    signature: subject.signature.rawRepresentation + Array("\(subject.signatureAlgorithm)".utf8),
                    message: subject.tbsCertificateBytes
                ) { issuer.publicKey.isValidSignature(subject.signature, for: subject) }
            } else {
                verifies = issuer.publicKey.isValidSignature(subject.signature, for: subject)
            }
            guard verifies else {
                throw VerificationFailure(.certificateChain,
                    "\(name): the signature on \"\(subject.subject)\" does not verify under \"\(issuer.subject)\"")
            }
            let constraints = try? issuer.extensions.basicConstraints
            guard case .isCertificateAuthority = constraints else {
                throw VerificationFailure(.certificateChain, "\(name): issuer \"\(issuer.subject)\" is not a CA")
            }
        }
        for certificate in path {
            let notBefore = Int64(certificate.notValidBefore.timeIntervalSince1970)
            let notAfter = Int64(certificate.notValidAfter.timeIntervalSince1970)
            guard notBefore <= time, time <= notAfter else {
                throw VerificationFailure(.expired,
                    "\(name): certificate \"\(certificate.subject)\" is valid from \(IntelTimestamp.render(notBefore)) to \(IntelTimestamp.render(notAfter)), not at \(IntelTimestamp.render(time))")
            }
        }
        return path
    }
}
