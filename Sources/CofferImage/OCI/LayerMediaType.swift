/// The layer formats Coffer applies (image-spec layer.md, "Media Types"; Docker's image manifest
/// v2 schema 2 names its gzip layers `...rootfs.diff.tar.gzip`). Compression is detected again
/// from the blob's magic number when it is read, so a mislabelled layer still reads correctly.
enum LayerMediaType: Equatable {
    case tar
    case gzipTar

    /// `mediaType` is nil for the layers of an old-style `docker save` archive (plain tar files).
    init(_ mediaType: String?) throws(OCIError) {
        guard let mediaType else {
            self = .tar
            return
        }
        switch mediaType {
        case "application/vnd.oci.image.layer.v1.tar",
             "application/vnd.oci.image.layer.nondistributable.v1.tar",
             "application/vnd.docker.image.rootfs.diff.tar":
            self = .tar
        case "application/vnd.oci.image.layer.v1.tar+gzip",
             "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
             "application/vnd.docker.image.rootfs.diff.tar.gzip",
             "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
            self = .gzipTar
        default:
            let zstd = mediaType.hasSuffix("+zstd") || mediaType.hasSuffix(".zstd")
            throw .unsupportedMediaType(mediaType: mediaType, role: "layer",
                                        detail: zstd ? "zstd" : "Coffer applies tar and gzip tar layers")
        }
    }
}
