import CofferCore
import Crypto
import _CryptoExtras
import Foundation

/// The image builder's signing key: Ed25519 (default) or ECDSA P-256, stored as PKCS#8 PEM.
///
/// A signature over the manifest lets a deployer (or the key broker's resource policy) accept
/// images by who built them, not only by id.
public enum BuilderKey: Sendable {
    case ed25519(Curve25519.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)

    public enum Algorithm: String, Sendable, CaseIterable, Codable {
        case ed25519, p256
    }

    public static func generate(_ algorithm: Algorithm) -> BuilderKey {
        switch algorithm {
        case .ed25519: .ed25519(Curve25519.Signing.PrivateKey())
        case .p256: .p256(P256.Signing.PrivateKey())
        }
    }

    public init(pem: String, source: String) throws(CofferError) {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p256(key)
        } else if let key = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) {
            self = .ed25519(key)
        } else {
            throw CofferError(.invalidInput, "\(source) is not an Ed25519 or P-256 private key in PKCS#8 PEM")
        }
    }

    public var algorithm: Algorithm {
        switch self {
        case .ed25519: .ed25519
        case .p256: .p256
        }
    }

    public var privatePEM: String {
        switch self {
        case .ed25519(let key): key.pemRepresentation
        case .p256(let key): key.pemRepresentation
        }
    }

    public var publicKey: BuilderPublicKey {
        switch self {
        case .ed25519(let key): .ed25519(key.publicKey)
        case .p256(let key): .p256(key.publicKey)
        }
    }

    public func sign(_ message: Data) throws(CofferError) -> ManifestSignature {
        let signature: Data
        do {
            switch self {
            case .ed25519(let key): signature = try key.signature(for: message)
            case .p256(let key): signature = try key.signature(for: message).derRepresentation
            }
        } catch {
            throw CofferError(.internalError, "signing failed", cause: error as NSError)
        }
        return ManifestSignature(
            algorithm: algorithm, publicKey: publicKey.pem, keyId: publicKey.keyId,
            signature: signature.base64EncodedString())
    }
}

/// A builder's public key, as `coffer verify --key` takes it (SubjectPublicKeyInfo PEM).
public enum BuilderPublicKey: Sendable {
    case ed25519(Curve25519.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)

    public init(pem: String, source: String) throws(CofferError) {
        if let key = try? P256.Signing.PublicKey(pemRepresentation: pem) {
            self = .p256(key)
        } else if let key = try? Curve25519.Signing.PublicKey(pemRepresentation: pem) {
            self = .ed25519(key)
        } else {
            throw CofferError(.invalidInput, "\(source) is not an Ed25519 or P-256 public key in PEM")
        }
    }

    public var pem: String {
        switch self {
        case .ed25519(let key): key.pemRepresentation
        case .p256(let key): key.pemRepresentation
        }
    }

    /// `sha256:` of the DER SubjectPublicKeyInfo: a short, stable name for the key.
    public var keyId: String {
        switch self {
        case .ed25519(let key): FileDigest.sha256(key.derRepresentation)
        case .p256(let key): FileDigest.sha256(key.derRepresentation)
        }
    }

    func isValid(signature: Data, for message: Data) -> Bool {
        switch self {
        case .ed25519(let key):
            return key.isValidSignature(signature, for: message)
        case .p256(let key):
            guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: message)
        }
    }
}

/// The detached signature stored beside a manifest (`manifest.sig`, JSON).
public struct ManifestSignature: Codable, Sendable, Equatable {
    public var algorithm: BuilderKey.Algorithm
    public var publicKey: String
    public var keyId: String
    public var signature: String

    /// Checks the signature over `manifest` with the embedded key, and, when `trusted` is given,
    /// that the embedded key is that one: an embedded key alone proves only self-consistency.
    public func verify(manifest: Data, trusted: BuilderPublicKey?) throws(CofferError) -> BuilderPublicKey {
        let embedded = try BuilderPublicKey(pem: publicKey, source: "manifest.sig")
        guard embedded.keyId == keyId else {
            throw CofferError(.integrity, "manifest.sig: keyId \(keyId) does not match its public key \(embedded.keyId)")
        }
        if let trusted, trusted.keyId != embedded.keyId {
            throw CofferError(.integrity, "image was signed by key \(embedded.keyId), not by the trusted key \(trusted.keyId)")
        }
        guard let raw = Data(base64Encoded: signature), embedded.isValid(signature: raw, for: manifest) else {
            throw CofferError(.integrity, "manifest signature does not verify with key \(embedded.keyId)")
        }
        return embedded
    }
}
