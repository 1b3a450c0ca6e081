#if canImport(Glibc)
import Glibc
#endif

/// What an extraction may do besides creating files and directories.
public struct TarExtractionPolicy: Sendable, Equatable {
    /// Set each member's uid and gid (lchown). Needs root; defaults to true when running as root.
    public var preserveOwnership: Bool
    /// Create character and block devices (mknod). Needs root; when false they are skipped and
    /// counted in `TarSummary.skipped`. Defaults to true when running as root.
    public var createDeviceNodes: Bool
    /// Set the extended attributes an archive records, limited to `security.capability` (file
    /// capabilities, as `setcap` makes them) and `user.*`; others are ignored. Defaults to true
    /// when running as root (setting capabilities needs it).
    public var preserveExtendedAttributes: Bool

    public init(preserveOwnership: Bool? = nil, createDeviceNodes: Bool? = nil, preserveExtendedAttributes: Bool? = nil) {
        let isRoot = geteuid() == 0
        self.preserveOwnership = preserveOwnership ?? isRoot
        self.createDeviceNodes = createDeviceNodes ?? isRoot
        self.preserveExtendedAttributes = preserveExtendedAttributes ?? isRoot
    }
}

/// How far an extraction has got, reported after each member, every 8 MiB of file data, and
/// once more when the whole archive has been read.
public struct TarProgress: Sendable, Equatable {
    /// Bytes read from the archive file (compressed bytes for a gzip archive).
    public var archiveBytesRead: UInt64
    /// The archive file's size, when it is a regular file.
    public var archiveSize: UInt64?
    /// Members completed so far.
    public var members: Int
    /// File data written so far.
    public var dataBytes: UInt64
    /// The member just processed (or being written, in a report from inside a large file).
    public var member: String
}

/// What an extraction did.
public struct TarSummary: Sendable, Equatable {
    public var members = 0
    public var regularFiles = 0
    public var directories = 0
    public var symlinks = 0
    public var hardLinks = 0
    /// Devices and fifos.
    public var specialFiles = 0
    /// Members not created: the root's own entry (`./`), and devices when the policy skips them.
    public var skipped = 0
    /// OCI whiteouts applied (only when extracting a layer).
    public var whiteouts = 0
    /// Bytes of file data written.
    public var dataBytes: UInt64 = 0

    public init() {}
}

/// Extracts a plain or gzip tar archive into a root directory, safely: no member is written
/// outside the root, whatever its name, its link target, or the symlinks earlier members made.
///
/// Later members replace earlier ones, as with tar. Modes (with setuid/setgid/sticky), owners,
/// and modification times are applied; directories get their times after their contents.
public struct TarExtractor: Sendable {
    public let root: String
    public let policy: TarExtractionPolicy

    public init(root: String, policy: TarExtractionPolicy = TarExtractionPolicy()) {
        self.root = root
        self.policy = policy
    }

    /// Extracts `archivePath` into the root.
    /// - Throws: `ArchiveError` naming the archive, the member and what was wrong.
    @discardableResult
    public func extract(archivePath: String, progress: ((TarProgress) -> Void)? = nil) throws -> TarSummary {
        try extract(archivePath: archivePath, layer: false, progress: progress)
    }

    /// Extracts an OCI layer when `layer` is true: whiteouts remove lower content and are not
    /// themselves created.
    func extract(archivePath: String, layer: Bool, progress: ((TarProgress) -> Void)?) throws -> TarSummary {
        guard let realRoot = realpath(root, nil) else {
            throw ArchiveError.unreadable(archive: archivePath, reason: "extraction root \(root) does not exist")
        }
        let rootPath = String(cString: realRoot)
        free(realRoot)
        let (stream, size) = try ArchiveInput.open(path: archivePath)
        let reader = TarReader(stream: stream, archiveName: archivePath)
        let extraction = TarExtraction(reader: reader, root: RootedPaths(root: rootPath), policy: policy, layer: layer)
        return try extraction.run { summary in
            progress?(TarProgress(archiveBytesRead: reader.fileBytesRead, archiveSize: size,
                                  members: summary.members, dataBytes: summary.dataBytes,
                                  member: extraction.currentMember))
        }
    }
}
