import Foundation

/// The contents of a `docker save` archive, unpacked: a `manifest.json` listing each image's
/// config file and layer files (paths inside the archive), as Docker writes it.
///
/// Older Docker names the config `<sha256 hex>.json` and the layers `<id>/layer.tar`; the layer
/// files are then checked against the config's `rootfs.diff_ids` (digests of the uncompressed
/// layers, which these plain tar files are). Docker 25 and later write `blobs/sha256/<hex>` paths,
/// checked against the hex in their names.
struct DockerSaveLayout {
    let directory: String

    func resolve() throws -> ResolvedImage {
        let manifestPath = directory + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw OCIError.notAnImage(path: directory, reason: "it has neither index.json nor manifest.json")
        }
        let entries: [DockerSaveManifestEntry] = try decode(data, document: "manifest.json")
        guard entries.count == 1, let entry = entries.first else {
            let tags = entries.flatMap { $0.RepoTags ?? [] }
            throw OCIError.malformedDocument(document: "manifest.json", reason: "it lists \(entries.count) images (\(tags.joined(separator: ", "))); save exactly one")
        }
        let configPath = try memberPath(entry.Config)
        guard let configDigest = Self.digest(named: entry.Config) else {
            throw OCIError.malformedDocument(document: "manifest.json", reason: "config path '\(entry.Config)' does not name its sha256 digest")
        }
        guard let configData = FileManager.default.contents(atPath: configPath) else {
            throw OCIError.missingBlob(digest: configDigest.description, path: configPath)
        }
        try BlobDigest.verify(data: configData, against: configDigest, size: nil)
        let configuration: OCIImageConfiguration = try decode(configData, document: "image config \(entry.Config)")
        let diffIDs = configuration.rootfs?.diff_ids ?? []
        var layers: [ResolvedImage.Layer] = []
        for (i, name) in entry.Layers.enumerated() {
            let digest: BlobDigest
            if let named = Self.digest(named: name) {
                digest = named
            } else if i < diffIDs.count, diffIDs.count == entry.Layers.count {
                digest = try BlobDigest(diffIDs[i])
            } else {
                throw OCIError.malformedDocument(document: "manifest.json", reason: "layer '\(name)' has no digest to check it against (config rootfs.diff_ids has \(diffIDs.count) entries for \(entry.Layers.count) layers)")
            }
            layers.append(.init(path: try memberPath(name), mediaType: nil, digest: digest, size: nil))
        }
        return ResolvedImage(configuration: configuration, layers: layers)
    }

    /// A path from manifest.json, which must stay inside the archive.
    private func memberPath(_ name: String) throws -> String {
        guard let path = try? MemberPath(name), !path.isRoot else {
            throw OCIError.malformedDocument(document: "manifest.json", reason: "path '\(name)' is absolute or leaves the archive")
        }
        return directory + "/" + path.joined
    }

    /// The digest in `blobs/sha256/<hex>` or `<hex>.json`, when the name carries one.
    static func digest(named name: String) -> BlobDigest? {
        let last = name.split(separator: "/").last.map(String.init) ?? name
        let hex = last.hasSuffix(".json") ? String(last.dropLast(5)) : last
        return try? BlobDigest(hex: hex)
    }
}
