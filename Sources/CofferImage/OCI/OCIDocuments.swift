/// The JSON documents of an OCI image (image-spec descriptor.md, image-index.md, manifest.md,
/// config.md) and of a `docker save` archive's manifest.json, with only the fields Coffer uses.

/// A content descriptor: what a blob is, its digest and its size (descriptor.md).
struct OCIDescriptor: Codable, Equatable {
    var mediaType: String?
    var digest: String
    var size: Int64?
    var platform: OCIPlatform?
    var annotations: [String: String]?
}

/// The platform an index entry runs on (image-index.md, "platform").
struct OCIPlatform: Codable, Equatable {
    var architecture: String
    var os: String
    var variant: String?

    var name: String { "\(os)/\(architecture)\(variant.map { "/\($0)" } ?? "")" }
}

/// An image index (image-index.md); also the layout's index.json (image-layout.md).
struct OCIIndex: Codable {
    var schemaVersion: Int?
    var mediaType: String?
    var manifests: [OCIDescriptor]
}

/// An image manifest (manifest.md): the config blob and the layers, lowest first.
struct OCIManifest: Codable {
    var schemaVersion: Int?
    var mediaType: String?
    var config: OCIDescriptor
    var layers: [OCIDescriptor]
}

/// The image configuration (config.md); `config` holds the execution defaults.
struct OCIImageConfiguration: Codable {
    struct Settings: Codable {
        var User: String?
        var Env: [String]?
        var Entrypoint: [String]?
        var Cmd: [String]?
        var WorkingDir: String?
    }

    struct RootFS: Codable {
        var type: String?
        var diff_ids: [String]?
    }

    var architecture: String?
    var os: String?
    var config: Settings?
    var rootfs: RootFS?
}

/// One image in a `docker save` archive's manifest.json: paths inside the archive.
struct DockerSaveManifestEntry: Codable {
    var Config: String
    var RepoTags: [String]?
    var Layers: [String]
}

/// The media types Coffer meets in indexes and manifests.
enum OCIMediaType {
    static let index = "application/vnd.oci.image.index.v1+json"
    static let manifest = "application/vnd.oci.image.manifest.v1+json"
    static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

    static func isIndex(_ type: String?) -> Bool { type == index || type == dockerManifestList }
    static func isManifest(_ type: String?) -> Bool { type == manifest || type == dockerManifest }
}
