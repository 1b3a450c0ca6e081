/// An image found in a layout or archive: its configuration and its layer files, lowest first,
/// each with the digest it must hash to.
struct ResolvedImage {
    struct Layer {
        var path: String
        var mediaType: String?
        var digest: BlobDigest
        var size: Int64?
    }

    var configuration: OCIImageConfiguration
    var layers: [Layer]
}
