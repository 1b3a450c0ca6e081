import Foundation

/// An OCI image layout directory (image-spec image-layout.md): an `oci-layout` file, an
/// `index.json`, and content-addressed blobs under `blobs/sha256/`. Every blob read is checked
/// against its digest.
struct OCILayout {
    let directory: ImageDirectory

    /// JSON documents are read whole; a hostile layout could otherwise name a huge blob as its
    /// manifest and exhaust memory.
    static let documentLimit = 16 << 20

    init(directory: ImageDirectory) throws {
        self.directory = directory
        guard let data = try directory.contents("oci-layout", limit: Self.documentLimit) else {
            throw OCIError.notAnImage(path: directory.path, reason: "it has no oci-layout file")
        }
        struct Marker: Codable { var imageLayoutVersion: String }
        guard let version = try? JSONDecoder().decode(Marker.self, from: data).imageLayoutVersion,
              version.hasPrefix("1.") else {
            throw OCIError.malformedDocument(document: "oci-layout", reason: "imageLayoutVersion must be 1.x")
        }
    }

    /// The host path of a blob, which must be a regular file in the layout.
    func blobPath(_ digest: BlobDigest) throws -> String {
        let relative = "blobs/sha256/" + digest.hex
        guard let path = directory.regularFile(relative) else {
            throw OCIError.missingBlob(digest: digest.description, path: directory.path + "/" + relative)
        }
        return path
    }

    /// The image for linux/amd64, following nested indexes from index.json.
    func resolve() throws -> ResolvedImage {
        guard let data = try directory.contents("index.json", limit: Self.documentLimit) else {
            throw OCIError.notAnImage(path: directory.path, reason: "it has no index.json")
        }
        let index: OCIIndex = try decode(data, document: "index.json")
        let manifestDescriptor = try chooseManifest(in: index, document: "index.json", depth: 0)
        let manifest: OCIManifest = try readDocument(manifestDescriptor, document: "manifest \(manifestDescriptor.digest)")
        let configuration: OCIImageConfiguration = try readDocument(manifest.config, document: "image config \(manifest.config.digest)")
        let layers = try manifest.layers.map { layer in
            let digest = try BlobDigest(layer.digest)
            return ResolvedImage.Layer(path: try blobPath(digest), mediaType: layer.mediaType, digest: digest, size: layer.size)
        }
        return ResolvedImage(configuration: configuration, layers: layers)
    }

    /// Picks the manifest to use from an index: linux/amd64 when platforms are listed, the only
    /// manifest when there is one; nested indexes are followed (to a depth of 4).
    private func chooseManifest(in index: OCIIndex, document: String, depth: Int) throws -> OCIDescriptor {
        guard depth < 4 else { throw OCIError.malformedDocument(document: document, reason: "indexes nested too deeply") }
        let usable = index.manifests.filter { OCIMediaType.isIndex($0.mediaType) || OCIMediaType.isManifest($0.mediaType) }
        let unusable = index.manifests.compactMap(\.mediaType).filter { !OCIMediaType.isIndex($0) && !OCIMediaType.isManifest($0) }
        let chosen: OCIDescriptor
        if let amd64 = usable.first(where: { $0.platform?.os == "linux" && $0.platform?.architecture == "amd64" }) {
            chosen = amd64
        } else if usable.count == 1, usable[0].platform == nil {
            chosen = usable[0]
        } else if usable.isEmpty, let type = unusable.first {
            throw OCIError.unsupportedMediaType(mediaType: type, role: "manifest", detail: "in \(document)")
        } else {
            throw OCIError.noMatchingPlatform(document: document, available: usable.compactMap { $0.platform?.name })
        }
        guard OCIMediaType.isIndex(chosen.mediaType) else { return chosen }
        let nested: OCIIndex = try readDocument(chosen, document: "index \(chosen.digest)")
        return try chooseManifest(in: nested, document: "index \(chosen.digest)", depth: depth + 1)
    }

    /// Reads a JSON blob, checks its digest and size, and decodes it.
    func readDocument<T: Decodable>(_ descriptor: OCIDescriptor, document: String) throws -> T {
        let digest = try BlobDigest(descriptor.digest)
        _ = try blobPath(digest)
        guard let data = try directory.contents("blobs/sha256/" + digest.hex, limit: Self.documentLimit) else {
            throw OCIError.missingBlob(digest: descriptor.digest, path: directory.path + "/blobs/sha256/" + digest.hex)
        }
        try BlobDigest.verify(data: data, against: digest, size: descriptor.size)
        return try decode(data, document: document)
    }
}

func decode<T: Decodable>(_ data: Data, document: String) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch let error as DecodingError {
        throw OCIError.malformedDocument(document: document, reason: describe(error))
    }
}

/// A one-line account of a JSON decoding failure: which field, what was wrong.
private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return keys.isEmpty ? "the document" : keys.joined(separator: ".")
    }
    switch error {
    case let .keyNotFound(key, context): return "\(path(context)): missing field '\(key.stringValue)'"
    case let .typeMismatch(_, context), let .valueNotFound(_, context): return "\(path(context)): \(context.debugDescription)"
    case let .dataCorrupted(context): return "\(path(context)): \(context.debugDescription)"
    @unknown default: return "\(error)"
    }
}
