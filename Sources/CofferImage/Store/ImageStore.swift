import CofferCore
import Foundation

/// The local image store under `$COFFER_HOME`.
///
/// ```
/// $COFFER_HOME/
///   images/<id-hex>/manifest.json   canonical manifest; sha256 of it is the id
///                   manifest.sig    detached signature (optional)
///                   rootfs.erofs    read-only root file system
///                   rootfs.verity   dm-verity superblock + hash tree
///   refs.json                       { "name:tag": "sha256:<id>" }, replaced atomically
///   keys/builder.key, builder.pub   the builder's signing key
///   tmp/                            build directories, renamed into images/ when complete
/// ```
/// A build happens entirely in `tmp/` and becomes visible by one rename, so an interrupted or
/// failed build (bad input, full disk) leaves no partial image behind.
public struct ImageStore: Sendable {
    public let home: String

    public init(home: String) { self.home = home }

    /// `$COFFER_HOME`, else `/var/lib/coffer` for root, else `~/.local/share/coffer`.
    public static func defaultHome(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let home = environment["COFFER_HOME"], !home.isEmpty { return home }
        if getuid() == 0 { return "/var/lib/coffer" }
        let user = environment["HOME"] ?? NSHomeDirectory()
        return "\(user)/.local/share/coffer"
    }

    public var imagesDirectory: String { "\(home)/images" }
    public var keysDirectory: String { "\(home)/keys" }
    var refsPath: String { "\(home)/refs.json" }
    var temporaryDirectory: String { "\(home)/tmp" }

    public func directory(for id: String) -> String { "\(imagesDirectory)/\(Self.hex(of: id))" }

    /// Creates a fresh, locked build directory on the store's file system (so the final rename is
    /// atomic), first removing those of builds that died before cleaning up.
    public func makeBuildDirectory() throws(CofferError) -> BuildDirectory {
        try FileSystem.makeDirectory(imagesDirectory)
        return try BuildDirectory.make(in: temporaryDirectory)
    }

    /// Moves a completed build directory into place as image `id`. Building the same image twice is
    /// not an error: the existing (identical) copy is kept.
    public func commit(buildDirectory: String, id: String) throws(CofferError) {
        let target = directory(for: id)
        if FileSystem.isDirectory(target) {
            FileSystem.removeTree(buildDirectory)
            return
        }
        guard rename(buildDirectory, target) == 0 else {
            throw FileSystem.error("cannot move the finished image into \(target)")
        }
        FileSystem.syncDirectory(imagesDirectory)
    }

    // MARK: Tags

    public func tags() throws(CofferError) -> [ImageReference: String] {
        guard FileSystem.exists(refsPath) else { return [:] }
        let data = try FileSystem.read(refsPath)
        guard let raw = try? JSONDecoder().decode([String: String].self, from: data) else {
            throw CofferError(.integrity, "\(refsPath) is corrupt; remove it and re-tag images")
        }
        var result: [ImageReference: String] = [:]
        for (key, id) in raw { if let ref = try? ImageReference(parsing: key) { result[ref] = id } }
        return result
    }

    public func setTag(_ reference: ImageReference, to id: String?) throws(CofferError) {
        try withLock { () throws(CofferError) in
            var all = try tags()
            all[reference] = id
            try writeTags(all)
        }
    }

    private func writeTags(_ tags: [ImageReference: String]) throws(CofferError) {
        let raw = Dictionary(uniqueKeysWithValues: tags.map { ($0.key.description, $0.value) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(raw) else { throw CofferError(.internalError, "cannot encode tags") }
        try AtomicFile.write(data, to: refsPath)
    }

    /// Serialises read-modify-write of refs.json between concurrent `coffer` processes.
    private func withLock<T>(_ body: () throws(CofferError) -> T) throws(CofferError) -> T {
        try FileSystem.makeDirectory(home)
        let fd = open("\(home)/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSystem.error("cannot open the store lock in \(home)") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw FileSystem.error("cannot lock the store") }
        return try body()
    }

    // MARK: Images

    public func allIDs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: imagesDirectory)) ?? []
        return names.filter { $0.count == 64 && Hex.decode($0) != nil }.map { "sha256:\($0)" }.sorted()
    }

    /// Resolves a tag, a full id (`sha256:…` or bare hex), or an unambiguous id prefix of 12+ digits.
    public func resolve(_ text: String) throws(CofferError) -> StoredImage {
        let bare = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        if bare.count >= 12, Hex.decode(bare.count % 2 == 0 ? bare : bare + "0") != nil {
            let matches = allIDs().filter { Self.hex(of: $0).hasPrefix(bare.lowercased()) }
            if matches.count == 1 { return try load(id: matches[0]) }
            if matches.count > 1 { throw CofferError(.invalidInput, "image id prefix \(text) is ambiguous") }
        }
        let reference = try ImageReference(parsing: text)
        guard let id = try tags()[reference] else { throw CofferError(.notFound, "no image \(reference)") }
        return try load(id: id)
    }

    public func load(id: String) throws(CofferError) -> StoredImage {
        let dir = directory(for: id)
        guard FileSystem.isDirectory(dir) else { throw CofferError(.notFound, "no image \(id)") }
        let data = try FileSystem.read("\(dir)/manifest.json")
        let manifest = try ImageManifest.decode(data, source: "\(dir)/manifest.json")
        let tags = ((try? self.tags()) ?? [:]).filter { $0.value == id }.map(\.key).sorted()
        return StoredImage(id: id, directory: dir, manifest: manifest, manifestBytes: data, tags: tags)
    }

    /// `rmi`: a tag is removed, and the image with it when no tag is left; an id removes the image
    /// and every tag that points at it.
    public func remove(_ text: String) throws(CofferError) -> (untagged: [ImageReference], deleted: String?) {
        try withLock { () throws(CofferError) in
            let image = try resolve(text)
            var all = try tags()
            var untagged: [ImageReference] = []
            if let reference = try? ImageReference(parsing: text), all[reference] == image.id {
                all[reference] = nil
                untagged = [reference]
            } else {
                untagged = all.filter { $0.value == image.id }.map(\.key).sorted()
                for reference in untagged { all[reference] = nil }
            }
            try writeTags(all)
            guard !all.values.contains(image.id) else { return (untagged, nil) }
            // Rename first so a crash mid-delete never leaves a half-image under images/.
            let doomed = "\(temporaryDirectory)/rm-\(Self.hex(of: image.id))-\(getpid())"
            try FileSystem.makeDirectory(temporaryDirectory, mode: 0o700)
            guard rename(image.directory, doomed) == 0 else { throw FileSystem.error("cannot remove \(image.directory)") }
            FileSystem.removeTree(doomed)
            return (untagged, image.id)
        }
    }

    static func hex(of id: String) -> String { id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id }
}

/// An image as the store holds it.
public struct StoredImage: Sendable {
    public var id: String
    public var directory: String
    public var manifest: ImageManifest
    public var manifestBytes: Data
    public var tags: [ImageReference]

    public var rootfsPath: String { "\(directory)/rootfs.erofs" }
    public var verityPath: String { "\(directory)/rootfs.verity" }
    public var signaturePath: String { "\(directory)/manifest.sig" }
    public var shortID: String { String(ImageStore.hex(of: id).prefix(12)) }
}
