import CofferCore
import Crypto
import Foundation

/// How each kind of build input reaches the staging tree, and the digest that names it in the manifest.
extension ImageBuilder {
    /// Extraction policy for the staging tree. Extended attributes are not carried: mkfs.erofs runs
    /// with `-x-1` so that labels of the build host never leak in (decisions/0002).
    static var extractionPolicy: TarExtractionPolicy { TarExtractionPolicy(preserveExtendedAttributes: false) }

    func applyBaseLayers(
        _ spec: BuildSpec, to staging: StagingRoot, inputs: inout [BuildInput], defaults: inout ImageDefaults
    ) throws(CofferError) {
        for archive in spec.rootfsArchives {
            progress.phase("unpacking \(archive)")
            let digest = try FileDigest.sha256(file: archive)
            let progress = self.progress
            nonisolated(unsafe) var lastBytes: UInt64 = 0
            nonisolated(unsafe) var lastMembers = 0
            do {
                _ = try TarExtractor(root: staging.path, policy: Self.extractionPolicy).extract(archivePath: archive) { step in
                    progress.advance(bytes: Int64(step.dataBytes &- lastBytes))
                    progress.advance(files: step.members - lastMembers)
                    lastBytes = step.dataBytes
                    lastMembers = step.members
                }
            } catch { throw CofferError.from(error) }
            inputs.append(BuildInput(kind: .rootfs, digest: digest))
        }
        for image in spec.ociImages {
            progress.phase("unpacking OCI image \(image)")
            let result: OCIUnpackResult
            let progress = self.progress
            nonisolated(unsafe) var lastBytes: UInt64 = 0
            nonisolated(unsafe) var lastLayer = -1
            do {
                // A `docker save` archive is first unpacked into a scratch directory made inside
                // the build directory (which exists; the unpacker does not create its parent).
                let buildDirectory = (staging.path as NSString).deletingLastPathComponent
                let unpacker = OCIImageUnpacker(source: image, policy: Self.extractionPolicy, scratchDirectory: buildDirectory)
                result = try unpacker.unpack(into: staging.path) { step in
                    if step.layer != lastLayer { lastLayer = step.layer; lastBytes = 0 }
                    progress.advance(bytes: Int64(step.tar.dataBytes &- lastBytes))
                    lastBytes = step.tar.dataBytes
                }
            } catch {
                // OCI errors name a document or a blob inside the image; say which image.
                throw Self.naming(CofferError.from(error), flag: "--oci", input: image)
            }
            // The layers are named by their digests (verified while unpacking), the config by what it set.
            let layers = result.layerDigests.joined(separator: ",")
            inputs.append(BuildInput(kind: .oci, digest: FileDigest.sha256(Data(layers.utf8))))
            defaults = result.defaults
        }
    }

    /// The binary's interpreter and shared libraries, found like ld.so finds them on this host.
    func libraryClosure(of binary: BuildSpec.Placement) throws(CofferError) -> [ELFDependency] {
        do { return try ELFClosure.resolve(binary: binary.source, guestBinaryPath: binary.destination) } catch {
            // ELF errors about the program itself start with its path, every link resolved: say it once.
            let resolved = realpath(binary.source, nil).map { pointer in
                defer { free(pointer) }
                return String(cString: pointer)
            }
            throw Self.naming(CofferError.from(error), flag: "--binary", input: binary.source, alsoKnownAs: resolved.map { [$0] } ?? [])
        }
    }

    /// `error` prefixed with the flag and the input it concerns (`--oci PATH: ...`), so that the
    /// one line the user sees says which input to fix. A message that already starts with the
    /// input's name (under any of its spellings) is not made to say it twice; a cause that only
    /// repeats the message (leaf errors that are their own cause) is dropped for the same reason.
    static func naming(_ error: CofferError, flag: String, input: String, alsoKnownAs aliases: [String] = []) -> CofferError {
        let cause = error.cause.flatMap { error.message.contains("\($0)") ? nil : $0 }
        for name in [input] + aliases {
            if error.message.hasPrefix(name + ": ") {
                return CofferError(error.code, "\(flag) \(input): \(error.message.dropFirst(name.count + 2))", cause: cause)
            }
            if error.message.hasPrefix(name + " ") { return CofferError(error.code, error.message, cause: cause) }
        }
        return CofferError(error.code, "\(flag) \(input): \(error.message)", cause: cause)
    }
}

/// The dm-verity step: parameters derived from the root file system's digest, so the tree (and
/// its root hash) is a function of the image's content alone (decisions/0002).
enum VerityStep {
    static func parameters(rootfsDigest: String) -> VerityParameters {
        let salt = Array(SHA256.hash(data: Data("coffer verity salt \(rootfsDigest)".utf8)))
        return VerityParameters(salt: salt, uuid: ImageBuilder.uuid(from: Array(rootfsDigest.utf8), label: "verity"))
    }

    static func format(rootfs: String, hash: String, rootfsDigest: String, progress: any BuildProgress) throws(CofferError) -> ImageManifest.Verity {
        let parameters = parameters(rootfsDigest: rootfsDigest)
        let result: VerityResult
        do {
            nonisolated(unsafe) var last: Int64 = 0
            let lock = NSLock()
            result = try VerityTree.format(dataPath: rootfs, hashPath: hash, parameters: parameters) { done in
                lock.withLock {
                    if done > last { progress.advance(bytes: done - last); last = done }
                }
            }
        } catch { throw CofferError.from(error) }
        return ImageManifest.Verity(
            dataBlocks: result.dataBlocks, rootHash: Hex.encode(result.rootHash), salt: Hex.encode(parameters.salt),
            uuid: ImageBuilder.uuidString(parameters.uuid),
            hashDigest: try FileDigest.sha256(file: hash), hashSize: result.hashFileSize)
    }

    /// Recomputes the tree from the stored root file system and checks it against the manifest.
    static func verify(rootfs: String, hash: String, verity: ImageManifest.Verity) throws(CofferError) {
        guard let rootHash = Hex.decode(verity.rootHash), let salt = Hex.decode(verity.salt),
            let uuid = Hex.decode(verity.uuid.replacingOccurrences(of: "-", with: ""))
        else { throw CofferError(.integrity, "manifest verity parameters are not valid hex") }
        do {
            try VerityTree.verify(dataPath: rootfs, hashPath: hash, rootHash: rootHash,
                parameters: VerityParameters(salt: salt, uuid: uuid, dataBlockSize: verity.dataBlockSize, hashBlockSize: verity.hashBlockSize))
        } catch { throw CofferError.from(error) }
    }
}
