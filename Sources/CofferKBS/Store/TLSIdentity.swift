import Crypto
import Foundation
import SwiftASN1
import X509

/// The KBS's TLS certificate and key: `tls.crt` / `tls.key` in the KBS directory, a self-signed
/// P-256 certificate for `localhost`, 127.0.0.1 and ::1 created on first start (or files the
/// operator put there), or the operator's own pair given to `serve` (`load(certificate:key:)`).
/// Clients pin `tls.crt` (`coffer kbs client --cacert`).
public struct TLSIdentity: Sendable {
    public var certificatePEM: String
    public var privateKeyPEM: String

    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    public static func loadOrCreate(in home: KBSHome, now: Date = Date()) throws -> TLSIdentity {
        let keyPath = home.tlsKeyPath, certPath = home.tlsCertificatePath
        let keyPEM = String(decoding: try KBSHome.readOrCreate(keyPath) { Data(P256.Signing.PrivateKey().pemRepresentation.utf8) }, as: UTF8.self)
        guard let key = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM) else { throw KBSHomeError("\(keyPath) is not a P-256 private key in PEM") }
        if let existing = FileManager.default.contents(atPath: certPath) {
            return TLSIdentity(certificatePEM: String(decoding: existing, as: UTF8.self), privateKeyPEM: keyPEM)
        }
        let certificatePEM = try selfSigned(key: key, now: now)
        _ = try KBSHome.readOrCreate(certPath) { Data(certificatePEM.utf8) }
        return TLSIdentity(certificatePEM: certificatePEM, privateKeyPEM: keyPEM)
    }

    /// The operator's own certificate and key (`coffer kbs serve --tls-cert FILE --tls-key FILE`),
    /// PEM: the certificate file holds the leaf first, then any intermediates; the key is PKCS#8,
    /// SEC1 or PKCS#1 (P-256/384/521, RSA, Ed25519). Checked here, at start, so a typo or a key
    /// of another certificate is an error naming the file rather than a server whose every TLS
    /// handshake fails.
    public static func load(certificate certPath: String, key keyPath: String) throws -> TLSIdentity {
        func read(_ path: String, _ what: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"
                throw KBSHomeError("TLS \(what) \(path): cannot read it (\(reason))")
            }
            return String(decoding: data, as: UTF8.self)
        }
        let certificatePEM = try read(certPath, "certificate"), keyPEM = try read(keyPath, "private key")
        let chain: [Certificate]
        do {
            chain = try PEMDocument.parseMultiple(pemString: certificatePEM).filter { $0.discriminator == "CERTIFICATE" }.map { try Certificate(pemDocument: $0) }
        } catch {
            throw KBSHomeError("TLS certificate \(certPath): not a PEM X.509 certificate")
        }
        guard let leaf = chain.first else { throw KBSHomeError("TLS certificate \(certPath): no PEM CERTIFICATE block in it") }
        let key: Certificate.PrivateKey
        do { key = try Certificate.PrivateKey(pemEncoded: keyPEM) } catch {
            throw KBSHomeError("TLS private key \(keyPath): not an unencrypted PEM private key (PKCS#8, EC or RSA)")
        }
        /// Security: a key that is not the certificate's would make every handshake fail, or — if
        /// the file swapped in is another server's — serve under the wrong identity; refuse it.
        guard key.publicKey == leaf.publicKey else {
            throw KBSHomeError("TLS private key \(keyPath) does not match the certificate \(certPath) (its public key is another)")
        }
        return TLSIdentity(certificatePEM: certificatePEM, privateKeyPEM: keyPEM)
    }

    static func selfSigned(key: P256.Signing.PrivateKey, now: Date) throws -> String {
        let name = try DistinguishedName { CommonName("coffer-kbs") }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(365 * 24 * 3600),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                                         .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))])
                try ExtendedKeyUsage([.serverAuth])
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return try certificate.serializeAsPEM().pemString
    }
}

extension KBSHome {
    public var tlsCertificatePath: String { directory + "/tls.crt" }
    public var tlsKeyPath: String { directory + "/tls.key" }
}
