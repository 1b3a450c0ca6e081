import Crypto
import Foundation
import SwiftASN1
import X509

/// The KBS's TLS certificate and key: `tls.crt` / `tls.key` in the KBS directory, a self-signed
/// P-256 certificate for `localhost`, 127.0.0.1 and ::1 created on first start (or files the
/// operator put there). Clients pin `tls.crt` (`coffer kbs client --cacert`).
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
