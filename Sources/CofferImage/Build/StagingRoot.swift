import CofferCore
import Crypto
import Foundation

/// The directory where an image's root file system is assembled before mkfs.erofs.
///
/// Earlier inputs (a rootfs tarball, OCI layers) may have put symlinks anywhere in this tree, so
/// placing a later file must never follow one out of it: paths are resolved inside the root with
/// every symlink clamped to the root, the way the guest kernel will see them.
struct StagingRoot {
    let path: String
    /// Files copied from the host get owner 0:0 unless the builder cannot chown (not root).
    let canChown: Bool

    init(path: String) {
        self.path = path
        canChown = geteuid() == 0
    }

    /// The host path that `guestPath` denotes inside the root, following symlinks in its parent
    /// components but never leaving the root (`RootedPaths`). The last component is not followed.
    func resolve(_ guestPath: String) throws(CofferError) -> String {
        try hostPath(guestPath, createParents: false)
    }

    /// Creates the missing parent directories of `guestPath` (mode 0755, owner root) and returns its host path.
    func prepareParent(of guestPath: String) throws(CofferError) -> String {
        try hostPath(guestPath, createParents: true)
    }

    private func hostPath(_ guestPath: String, createParents: Bool) throws(CofferError) -> String {
        var components = Self.components(guestPath)
        guard let last = components.popLast() else { return path }
        let rooted = RootedPaths(root: path)
        do {
            let parent = try rooted.resolve(components, followLast: true, createMissing: createParents) { created in
                own(rooted.hostPath(created))
            }
            guard let parent else { return rooted.hostPath(components + [last]) }
            return rooted.hostPath(parent + [last])
        } catch {
            switch error {
            case .notADirectory(let place):
                throw CofferError(.invalidInput, "cannot place \(guestPath): /\(place) exists in the image and is not a directory")
            case .tooManySymlinks(let place):
                throw CofferError(.invalidInput, "cannot place \(guestPath): too many symlinks at /\(place) in the image")
            case .system(let at, let reason):
                throw CofferError(.system, "cannot create \(at): \(reason)")
            }
        }
    }

    /// Copies a host file or directory tree to `guestPath`, returning the digest of what was copied.
    func copy(from source: String, to guestPath: String, progress: BuildProgress) throws(CofferError) -> String {
        var st = stat()
        guard lstat(source, &st) == 0 else { throw CofferError(.notFound, "\(source): no such file or directory") }
        let target = try prepareParent(of: guestPath)
        if FileSystem.exists(target) && !FileSystem.isDirectory(target) { unlink(target) }
        var hasher = SHA256()
        try copyEntry(source, target, relative: ".", into: &hasher, progress: progress)
        return "sha256:" + Hex.encode(hasher.finalize())
    }

    /// Copies one entry; the digest covers each entry's relative path, type, permission bits and
    /// content (or link target), in sorted order, so it names the tree and not the host's layout.
    private func copyEntry(
        _ source: String, _ target: String, relative: String, into hasher: inout SHA256, progress: BuildProgress
    ) throws(CofferError) {
        var st = stat()
        guard lstat(source, &st) == 0 else { throw FileSystem.error("cannot stat \(source)") }
        let permissions = st.st_mode & 0o7777
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            let digest = try copyFile(source, target, mode: permissions, progress: progress)
            hasher.update(data: Array("f \(relative) \(String(permissions, radix: 8)) \(digest)\n".utf8))
        case S_IFLNK:
            let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: source)) ?? ""
            if FileSystem.exists(target) { FileSystem.removeTree(target) }
            guard symlink(link, target) == 0 else { throw FileSystem.error("cannot create symlink \(target)") }
            own(target)
            hasher.update(data: Array("l \(relative) \(link)\n".utf8))
        case S_IFDIR:
            if !FileSystem.isDirectory(target) {
                guard mkdir(target, 0o755) == 0 else { throw FileSystem.error("cannot create \(target)") }
            }
            chmod(target, permissions)
            own(target)
            hasher.update(data: Array("d \(relative) \(String(permissions, radix: 8))\n".utf8))
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: source).sorted() } catch {
                throw CofferError(.system, "cannot list \(source)", cause: error as NSError)
            }
            for name in names {
                try copyEntry("\(source)/\(name)", "\(target)/\(name)", relative: "\(relative)/\(name)", into: &hasher, progress: progress)
            }
        default:
            throw CofferError(.unsupported, "\(source): only regular files, directories and symlinks can be added with --file")
        }
    }

    /// Copies a regular file's bytes, hashing them on the way.
    func copyFile(_ source: String, _ target: String, mode: mode_t, progress: BuildProgress) throws(CofferError) -> String {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FileSystem.error("cannot open \(source)") }
        defer { close(input) }
        if FileSystem.exists(target) { unlink(target) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw FileSystem.error("cannot create \(target)") }
        defer { close(output) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw FileSystem.error("cannot read \(source)") }
            if n == 0 { break }
            hasher.update(data: buffer[0..<n])
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, n - written) }
                if w < 0 { if errno == EINTR { continue }; throw FileSystem.error("cannot write \(target)") }
                written += w
            }
            progress.advance(bytes: Int64(n))
        }
        progress.advance(files: 1)
        fchmod(output, mode)
        if canChown { fchown(output, 0, 0) }
        return "sha256:" + Hex.encode(hasher.finalize())
    }

    func own(_ target: String) {
        if canChown { lchown(target, 0, 0) }
    }

    static func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
    }
}
