import CofferCore
import Foundation

/// `coffer verify`: is this stored image what its builder signed, and is it intact on disk?
public struct ImageVerification: Sendable {
    public var id: String
    public var signer: String
    /// True when the signer was checked against a key the caller trusts, not only the embedded one.
    public var signerTrusted: Bool
    public var contentsChecked: Bool

    /// Checks, in order: the manifest still hashes to the image id; the detached signature verifies
    /// (against `trusted` when given); and, with `checkContents`, that the root file system and the
    /// verity tree match the manifest's digests and the tree's root hash.
    public static func verify(
        _ image: StoredImage, trusted: BuilderPublicKey?, checkContents: Bool
    ) throws(CofferError) -> ImageVerification {
        let recomputed = ImageManifest.id(of: image.manifestBytes)
        guard recomputed == image.id else {
            throw CofferError(.integrity, "manifest of \(image.id) was modified: it now hashes to \(recomputed)")
        }
        guard FileSystem.exists(image.signaturePath) else {
            throw CofferError(.integrity, "image \(image.shortID) is not signed (build it after `coffer key generate`)")
        }
        let signature: ManifestSignature
        do {
            signature = try JSONDecoder().decode(ManifestSignature.self, from: try FileSystem.read(image.signaturePath))
        } catch {
            throw CofferError(.integrity, "\(image.signaturePath) is not a valid signature file", cause: error as NSError)
        }
        let signer = try signature.verify(manifest: image.manifestBytes, trusted: trusted)
        if checkContents {
            let rootfs = image.manifest.rootfs
            let digest = try FileDigest.sha256(file: image.rootfsPath)
            guard digest == rootfs.digest else {
                throw CofferError(.integrity, "rootfs.erofs of \(image.shortID) was modified: digest \(digest), manifest says \(rootfs.digest)")
            }
            let hashDigest = try FileDigest.sha256(file: image.verityPath)
            guard hashDigest == rootfs.verity.hashDigest else {
                throw CofferError(.integrity, "rootfs.verity of \(image.shortID) was modified: digest \(hashDigest), manifest says \(rootfs.verity.hashDigest)")
            }
            try VerityStep.verify(rootfs: image.rootfsPath, hash: image.verityPath, verity: rootfs.verity)
        }
        return ImageVerification(id: image.id, signer: signer.keyId, signerTrusted: trusted != nil, contentsChecked: checkContents)
    }
}
