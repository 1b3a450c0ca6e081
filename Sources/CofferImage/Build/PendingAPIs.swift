// TEMPORARY: stand-ins until the verity/ELF and archive/OCI branches merge. Deleted at merge.
import CofferCore
import Foundation

public struct ImageDefaults: Sendable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var env: [String] = []
    public var workingDir: String?
    public var user: String?
    public init() {}
}

extension ImageBuilder {
    func applyBaseLayers(_ spec: BuildSpec, to staging: StagingRoot, inputs: inout [BuildInput], defaults: inout ImageDefaults) throws(CofferError) {
        if !spec.rootfsArchives.isEmpty || !spec.ociImages.isEmpty {
            throw CofferError(.unsupported, "pending")
        }
    }
}

enum BinaryClosure {
    struct Dependency { var guestPath: String; var hostPath: String }
    static func dependencies(of binary: String) throws(CofferError) -> [Dependency] { [] }
}

enum VerityStep {
    static func format(rootfs: String, hash: String, rootfsDigest: String, progress: any BuildProgress) throws(CofferError) -> ImageManifest.Verity {
        let salt = String(repeating: "00", count: 32)
        try ExternalTool.run("veritysetup", ["format", rootfs, hash, "--salt=\(salt)", "--uuid=00000000-0000-4000-8000-000000000000"], package: "cryptsetup-bin")
        return ImageManifest.Verity(dataBlocks: try FileSystem.size(rootfs) / 4096, rootHash: "pending", salt: salt, uuid: "", hashDigest: try FileDigest.sha256(file: hash), hashSize: try FileSystem.size(hash))
    }
}

public enum CofferfileLoader {
    public static func load(_ path: String) throws(CofferError) -> (spec: BuildSpec, tags: [String]) {
        throw CofferError(.unsupported, "pending")
    }
}

extension VerityStep {
    static func verify(rootfs: String, hash: String, verity: ImageManifest.Verity) throws(CofferError) {}
}
