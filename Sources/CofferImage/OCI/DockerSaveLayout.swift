import Foundation

/// The contents of a `docker save` archive, unpacked: a `manifest.json` listing each image's
/// config file and layer files (paths inside the archive), as Docker writes it.
///
/// Older Docker names the config `<sha256 hex>.json` and the layers `<id>/layer.tar`; the layer
/// files are then checked against the config's `rootfs.diff_ids` (digests of the uncompressed
/// layers, which these plain tar files are). Docker 25 and later write `blobs/sha256/<hex>` paths,
/// checked against the hex in their names.
struct DockerSaveLayout {
    let directory: ImageDirectory

    func resolve() throws -> ResolvedImage {
        guard let data = try directory.contents("manifest.json", limit: OCILayout.documentLimit) else {
            throw OCIError.notAnImage(path: directory.path, reason: "it has neither oci-layout nor manifest.json")
        }
        let entries: [DockerSaveManifestEntry] = try decode(data, document: "manifest.json")
        guard entries.count == 1, let entry = entries.first else {
            let tags = entries.flatMap { $0.RepoTags ?? [] }
            throw OCIError.malformedDocument(document: "manifest.json", reason: "it lists \(entries.count) images (\(tags.joined(separator: ", "))); save exactly one")
        }
        guard let configDigest = Self.digest(named: entry.Config) else {
            throw OCIError.malformedDocument(document: "manifest.json", reason: "config path '\(entry.Config)' does not name its sha256 digest")
        }
        guard let configData = try directory.contents(entry.Config, limit: OCILayout.documentLimit) else {
            throw OCIError.missingBlob(digest: configDigest.description, path: directory.path + "/" + entry.Config)
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
            layers.append(.init(path: try memberPath(name, digest: digest), mediaType: nil, digest: digest, size: nil))
        }
        return ResolvedImage(configuration: configuration, layers: layers)
    }

    /// A layer file named in manifest.json: a regular file inside the archive.
    private func memberPath(_ name: String, digest: BlobDigest) throws -> String {
        guard (try? MemberPath(name)) != nil else {
            throw OCIError.malformedDocument(document: "manifest.json", reason: "path '\(name)' is absolute or leaves the archive")
        }
        guard let path = directory.regularFile(name) else {
            throw OCIError.missingBlob(digest: digest.description, path: directory.path + "/" + name)
        }
        return path
    }

    /// The digest in `blobs/sha256/<hex>` or `<hex>.json`, when the name carries one.
    static func digest(named name: String) -> BlobDigest? {
        let last = name.split(separator: "/").last.map(String.init) ?? name
        let hex = last.hasSuffix(".json") ? String(last.dropLast(5)) : last
        return try? BlobDigest(hex: hex)
    }
}
