import CofferCore
import CofferWire
import Foundation

/// The measured description of an image. Its SHA-256 is the image id.
///
/// Everything the guest will trust is named here by digest: the EROFS root file system, the
/// dm-verity root hash the kernel command line will carry, the process defaults, the exec policy,
/// and every build input. Host paths, names, tags and timestamps are deliberately absent, so the
/// same inputs give the same id on any machine, in any directory, on any day.
public struct ImageManifest: Codable, Sendable, Equatable {
    public static let mediaType = "application/vnd.coffer.image.manifest.v1+json"

    public var schemaVersion: Int = 1
    public var mediaType: String = ImageManifest.mediaType
    public var rootfs: RootFS
    public var config: ImageConfig
    public var inputs: [BuildInput]

    public init(rootfs: RootFS, config: ImageConfig, inputs: [BuildInput]) {
        self.rootfs = rootfs
        self.config = config
        self.inputs = inputs
    }

    /// The read-only root file system and its integrity tree.
    public struct RootFS: Codable, Sendable, Equatable {
        public var format: String = "erofs"
        public var digest: String
        public var size: Int64
        public var verity: Verity

        public init(digest: String, size: Int64, verity: Verity) {
            self.digest = digest
            self.size = size
            self.verity = verity
        }
    }

    /// dm-verity parameters: with the root hash on the measured kernel command line, every block
    /// the guest reads from the (untrusted) disk is checked against this tree.
    public struct Verity: Codable, Sendable, Equatable {
        public var hashAlgorithm: String = "sha256"
        public var dataBlockSize: Int = 4096
        public var hashBlockSize: Int = 4096
        public var dataBlocks: Int64
        public var rootHash: String
        public var salt: String
        public var uuid: String
        public var hashDigest: String
        public var hashSize: Int64

        public init(dataBlocks: Int64, rootHash: String, salt: String, uuid: String, hashDigest: String, hashSize: Int64) {
            self.dataBlocks = dataBlocks
            self.rootHash = rootHash
            self.salt = salt
            self.uuid = uuid
            self.hashDigest = hashDigest
            self.hashSize = hashSize
        }
    }

    /// The canonical bytes: sorted keys, no insignificant whitespace, slashes unescaped.
    public func canonicalJSON() throws(CofferError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(self) } catch {
            throw CofferError(.internalError, "cannot encode the image manifest", cause: error as NSError)
        }
    }

    public static func decode(_ data: Data, source: String) throws(CofferError) -> ImageManifest {
        do {
            let manifest = try JSONDecoder().decode(ImageManifest.self, from: data)
            guard manifest.schemaVersion == 1, manifest.mediaType == mediaType else {
                throw CofferError(.unsupported, "\(source): unsupported manifest \(manifest.mediaType) v\(manifest.schemaVersion)")
            }
            return manifest
        } catch let error as CofferError {
            throw error
        } catch {
            throw CofferError(.invalidInput, "\(source) is not a valid Coffer image manifest", cause: error as NSError)
        }
    }

    /// `sha256:<hex>` of the canonical bytes.
    public static func id(of canonical: Data) -> String { FileDigest.sha256(canonical) }
}

/// What the workload runs with unless `coffer run` overrides it.
public struct ImageConfig: Codable, Sendable, Equatable {
    public var entrypoint: [String]
    public var cmd: [String]
    public var env: [String]
    public var workdir: String
    public var user: String
    /// Default guest memory in bytes; nil leaves the runtime's default.
    public var memoryBytes: UInt64?
    /// Which processes the host may start beside the workload (each exactly); enforced by the
    /// guest agent from the measured command line. The builder fills in each entry's user and cwd.
    public var exec: ExecPolicy
    /// The key broker the image trusts (`coffer build --kbs-key`, decision 0037): its ES256 signing
    /// key, PEM (SubjectPublicKeyInfo, re-encoded so one key has one spelling). Absent (nil) for an
    /// image that pins none, and then absent from the canonical JSON, so such images keep the ids
    /// they had before the field existed.
    public var kbsKey: String?

    public init(
        entrypoint: [String] = [], cmd: [String] = [], env: [String] = [], workdir: String = "/",
        user: String = "0:0", memoryBytes: UInt64? = nil, exec: ExecPolicy = .deny, kbsKey: String? = nil
    ) {
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.workdir = workdir
        self.user = user
        self.memoryBytes = memoryBytes
        self.exec = exec
        self.kbsKey = kbsKey
    }
}

/// One measured build input, named by content digest and where it landed, never by host path.
public struct BuildInput: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case binary, library, file, directory, rootfs, oci
    }

    public var kind: Kind
    public var digest: String
    /// Absolute path inside the image, for binaries, libraries, files and directories.
    public var destination: String?

    public init(kind: Kind, digest: String, destination: String? = nil) {
        self.kind = kind
        self.digest = digest
        self.destination = destination
    }
}
