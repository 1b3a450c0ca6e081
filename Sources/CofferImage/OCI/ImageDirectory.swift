import Foundation

/// The directory an image was found in (an OCI layout, or an unpacked `docker save` archive),
/// and the files in it, looked up so that they can only be regular files inside it.
///
/// The directory's contents come from the image, which is untrusted: a symlink named
/// `blobs/sha256/<hex>` pointing at `/dev/zero` or a host file, or a fifo, must not be read.
/// Symlinks are followed but clamped to the directory (as in extraction), and only regular
/// files are returned.
struct ImageDirectory {
    let path: String
    private let paths: RootedPaths

    init(_ path: String) throws {
        guard let real = realpath(path, nil) else {
            throw OCIError.notAnImage(path: path, reason: "it does not exist")
        }
        self.path = String(cString: real)
        free(real)
        paths = RootedPaths(root: self.path)
    }

    /// The host path of the regular file at `relative`, or nil when there is none.
    func regularFile(_ relative: String) -> String? {
        guard let member = try? MemberPath(relative), !member.isRoot,
              let resolved = try? paths.resolve(member.components, followLast: true, createMissing: false),
              !resolved.isEmpty else { return nil }
        let host = paths.hostPath(resolved)
        var info = stat()
        guard lstat(host, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return host
    }

    /// The contents of a small regular file (a JSON document), refusing anything larger than
    /// `limit` so that a hostile image cannot exhaust memory.
    func contents(_ relative: String, limit: Int) throws -> Data? {
        guard let host = regularFile(relative) else { return nil }
        var info = stat()
        guard lstat(host, &info) == 0, info.st_size <= limit else {
            throw OCIError.malformedDocument(document: relative, reason: "larger than the \(limit)-byte limit for a JSON document")
        }
        return FileManager.default.contents(atPath: host)
    }
}
