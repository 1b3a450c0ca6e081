#if canImport(Glibc)
import Glibc
#endif

/// OCI whiteouts (image-spec layer.md, "Whiteouts"), applied while a layer is extracted:
/// - `DIR/.wh.NAME` removes NAME, as the lower layers left it;
/// - `DIR/.wh..wh..opq` (opaque) removes everything the lower layers put in DIR.
/// Whiteouts only hide lower content: what the same layer adds stays, whatever the member order
/// (the layer's own additions are tracked in `written`). Whiteout files never reach the rootfs.
extension TarExtraction {
    static let whiteoutPrefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"

    func applyWhiteout(_ member: MemberPath, entry: TarEntry) throws {
        let name = member.name
        /// Resolve the directory without creating it: a whiteout in a directory the lower layers
        /// never made hides nothing.
        guard let directory = try resolve(member.parent.components, entry: entry, createMissing: false),
              isDirectory(paths.hostPath(directory)) else { return }
        if name == Self.opaqueMarker {
            for child in directoryEntries(paths.hostPath(directory)) {
                try removeLower(directory + [child], entry: entry)
            }
            return
        }
        if name.hasPrefix(Self.whiteoutPrefix + Self.whiteoutPrefix) {
            return  // other `.wh..wh.` names are aufs metadata, with nothing to apply
        }
        let hidden = String(name.dropFirst(Self.whiteoutPrefix.count))
        guard !hidden.isEmpty, hidden != ".", hidden != ".." else {
            throw unsafe(entry, "whiteout for '\(hidden)' names no file")
        }
        try removeLower(directory + [hidden], entry: entry)
    }

    /// Removes `components` unless this layer wrote it or something below it; a directory that
    /// holds this layer's content is kept and its lower content removed, one level at a time.
    private func removeLower(_ components: [String], entry: TarEntry) throws {
        let key = components.joined(separator: "/")
        let host = paths.hostPath(components)
        if written.contains(key) || writtenAncestors.contains(key) {
            guard isDirectory(host) else { return }
            for child in directoryEntries(host) {
                try removeLower(components + [child], entry: entry)
            }
            return
        }
        var info = stat()
        guard lstat(host, &info) == 0 else { return }
        guard removeTree(host) else { throw failure(entry, "remove (whiteout)", host) }
    }
}
