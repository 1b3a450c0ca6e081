#if canImport(Glibc)
import Glibc
#endif

/// One run of `TarExtractor`: the member loop and the state it keeps (members seen, paths written,
/// directory times to set at the end).
final class TarExtraction {
    let reader: TarReader
    let paths: RootedPaths
    let policy: TarExtractionPolicy
    /// Extracting an OCI layer: whiteouts are applied rather than created.
    let layer: Bool
    var summary = TarSummary()
    private(set) var currentMember = ""
    /// Normalized names of the members extracted so far (hard links may only point at these).
    private var seenMembers: Set<String> = []
    /// Resolved paths this run created or replaced, and every directory above them: an opaque
    /// whiteout keeps these and removes the rest (lower layers' content).
    var written: Set<String> = []
    var writtenAncestors: Set<String> = []
    /// Directory times, applied after everything else so that creating entries inside does not
    /// change them again.
    private var directoryTimes: [(components: [String], mtime: Int64, nanoseconds: Int)] = []
    private let dataBuffer: UnsafeMutableRawBufferPointer
    /// Reports progress after each member, and every 8 MiB inside large files.
    private var report: (TarSummary) -> Void = { _ in }
    private var nextDataReport: UInt64 = 8 << 20

    init(reader: TarReader, root: RootedPaths, policy: TarExtractionPolicy, layer: Bool) {
        self.reader = reader
        self.paths = root
        self.policy = policy
        self.layer = layer
        dataBuffer = .allocate(byteCount: 1 << 16, alignment: 16)
    }

    deinit { dataBuffer.deallocate() }

    var archive: String { reader.archiveName }

    func run(progress: @escaping (TarSummary) -> Void) throws -> TarSummary {
        report = progress
        defer { report = { _ in } }
        while let entry = try reader.next() {
            currentMember = entry.path
            try process(entry)
            summary.members += 1
            report(summary)
        }
        try reader.drain()
        report(summary)  // the final report: the whole archive read
        for item in directoryTimes.reversed() {
            /// Later members may have replaced the directory, or a directory above it, with a
            /// symlink (say to a host directory): the path is resolved again inside the root and
            /// the time set only where the same directory is still found.
            guard let now = try? paths.resolve(item.components, followLast: false, createMissing: false),
                  now == item.components, isDirectory(paths.hostPath(now)) else { continue }
            let host = paths.hostPath(now)
            guard setTimes(host, item.mtime, item.nanoseconds) == 0 else {
                throw ArchiveError.extractionFailed(archive: archive, member: host, reason: "cannot set time: \(String(cString: strerror(errno)))")
            }
        }
        return summary
    }

    private func process(_ entry: TarEntry) throws {
        let member: MemberPath
        do {
            member = try MemberPath(entry.path)
        } catch .absolute {
            throw unsafe(entry, "absolute member names are not allowed (the name must be relative to the root)")
        } catch {
            throw unsafe(entry, "the name contains a '..' component")
        }
        if member.isRoot {
            summary.skipped += 1  // the root's own attributes are the builder's to decide
            return
        }
        if layer, member.name.hasPrefix(".wh.") {
            try applyWhiteout(member, entry: entry)
            summary.whiteouts += 1
            return
        }
        let parent = try resolve(member.parent.components, entry: entry, createMissing: true)
        let target = parent + [member.name]
        let host = paths.hostPath(target)
        if entry.kind == .directory, isDirectory(host) {
            try applyMetadata(entry, host: host, fd: nil, components: target)  // tar merges into an existing directory
        } else {
            try removeExisting(host, entry: entry)
            try create(entry, at: host, components: target)
        }
        seenMembers.insert(member.joined)
        markWritten(target)
    }

    private func create(_ entry: TarEntry, at host: String, components: [String]) throws {
        let parentDepth = components.count - 1
        switch entry.kind {
        case .regular:
            try writeRegularFile(entry, at: host)
            summary.regularFiles += 1
        case .directory:
            guard mkdir(host, 0o700) == 0 else { throw failure(entry, "mkdir", host) }
            try applyMetadata(entry, host: host, fd: nil, components: components)
            summary.directories += 1
        case .symlink:
            /// Links are resolved in the guest from the link's own directory; a relative target
            /// that climbs above the root is an attempt to reach outside it.
            if MemberPath.symlinkTargetEscapes(entry.linkTarget, directoryDepth: parentDepth) {
                throw unsafe(entry, "symlink target '\(entry.linkTarget)' climbs above the root")
            }
            guard !entry.linkTarget.isEmpty else { throw unsafe(entry, "the symlink has an empty target") }
            guard symlink(entry.linkTarget, host) == 0 else { throw failure(entry, "symlink", host) }
            try applyMetadata(entry, host: host, fd: nil)
            summary.symlinks += 1
        case .hardLink:
            try createHardLink(entry, at: host)
            summary.hardLinks += 1
        case .characterDevice, .blockDevice:
            guard policy.createDeviceNodes else {
                summary.skipped += 1
                return
            }
            let type = entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
            guard mknod(host, type | (entry.mode & 0o777), Self.deviceNumber(entry.deviceMajor, entry.deviceMinor)) == 0 else {
                throw failure(entry, "mknod", host)
            }
            try applyMetadata(entry, host: host, fd: nil)
            summary.specialFiles += 1
        case .fifo:
            guard mkfifo(host, entry.mode & 0o777) == 0 else { throw failure(entry, "mkfifo", host) }
            try applyMetadata(entry, host: host, fd: nil)
            summary.specialFiles += 1
        }
    }

    /// A hard link shares an inode, so its target must be something this archive put in the root:
    /// otherwise a member could link to (and a later member write through) a file outside it.
    private func createHardLink(_ entry: TarEntry, at host: String) throws {
        let link: MemberPath
        do {
            link = try MemberPath(entry.linkTarget)
        } catch {
            throw unsafe(entry, "hard link target '\(entry.linkTarget)' is \(error == .absolute ? "absolute" : "outside the root ('..')"); it must name an earlier member")
        }
        guard !link.isRoot, seenMembers.contains(link.joined) else {
            throw unsafe(entry, "hard link target '\(entry.linkTarget)' is not an earlier member of the archive")
        }
        let resolved = try resolve(link.components, entry: entry, createMissing: false, followLast: false)
        guard let resolved, !resolved.isEmpty else {
            throw unsafe(entry, "hard link target '\(entry.linkTarget)' no longer exists")
        }
        let source = paths.hostPath(resolved)
        guard !isDirectory(source) else { throw unsafe(entry, "hard link target '\(entry.linkTarget)' is a directory") }
        guard linkat(AT_FDCWD, source, AT_FDCWD, host, 0) == 0 else { throw failure(entry, "link", host) }
    }

    private func writeRegularFile(_ entry: TarEntry, at host: String) throws {
        /// O_EXCL|O_NOFOLLOW: the path was just cleared, so this creates a new file and can never
        /// open an existing file or follow a link planted at the last component.
        let fd = open(host, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(entry, "create", host) }
        defer { close(fd) }
        while true {
            let n = try reader.readData(into: dataBuffer)
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = write(fd, dataBuffer.baseAddress?.advanced(by: written), n - written)
                if w < 0 {
                    if errno == EINTR { continue }
                    throw failure(entry, "write", host)
                }
                written += w
            }
            summary.dataBytes &+= UInt64(n)
            if summary.dataBytes >= nextDataReport {
                nextDataReport = summary.dataBytes &+ (8 << 20)
                report(summary)
            }
        }
        try applyMetadata(entry, host: host, fd: fd)
    }

    /// Owner first, then mode (chown clears setuid/setgid), then time. Symlinks get no mode.
    private func applyMetadata(_ entry: TarEntry, host: String, fd: Int32?, components: [String] = []) throws {
        if policy.preserveOwnership {
            let rc = fd.map { fchown($0, entry.uid, entry.gid) } ?? lchown(host, entry.uid, entry.gid)
            guard rc == 0 else { throw failure(entry, "chown", host) }
        }
        if entry.kind != .symlink {
            let rc = fd.map { fchmod($0, entry.mode) } ?? chmod(host, entry.mode)
            guard rc == 0 else { throw failure(entry, "chmod", host) }
        }
        if policy.preserveExtendedAttributes {
            try applyExtendedAttributes(entry, host: host)  // after chown, which clears capabilities
        }
        if entry.kind == .directory {
            directoryTimes.append((components, entry.mtime, entry.mtimeNanoseconds))
            return
        }
        guard setTimes(host, entry.mtime, entry.mtimeNanoseconds) == 0 else {
            throw failure(entry, "set time of", host)
        }
    }

    /// Only file capabilities and user attributes are set. Others are dropped on purpose:
    /// `trusted.overlay.*` would steer the guest's overlayfs, `security.selinux` and friends would
    /// label files by the archive's say.
    private func applyExtendedAttributes(_ entry: TarEntry, host: String) throws {
        for (name, value) in entry.extendedAttributes.sorted(by: { $0.key < $1.key })
        where name == "security.capability" || name.hasPrefix("user.") {
            let rc = ExtendedAttribute.set(path: host, name: name, value: value)
            guard rc == 0 else { throw failure(entry, "set extended attribute \(name) on", host) }
        }
    }

    /// Sets access and modification time, never following a symlink at the end.
    private func setTimes(_ host: String, _ seconds: Int64, _ nanoseconds: Int) -> Int32 {
        let time = timespec(tv_sec: Int(clamping: seconds), tv_nsec: nanoseconds)
        let times = [time, time]
        return utimensat(AT_FDCWD, host, times, AT_SYMLINK_NOFOLLOW)
    }

    /// Clears the way for a new member: a later member replaces an earlier one of any type.
    private func removeExisting(_ host: String, entry: TarEntry) throws {
        var info = stat()
        guard lstat(host, &info) == 0 else {
            if errno == ENOENT { return }
            throw failure(entry, "inspect", host)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            guard removeTree(host) else { throw failure(entry, "replace directory", host) }
        } else if unlink(host) != 0 {
            throw failure(entry, "replace", host)
        }
    }

    func markWritten(_ components: [String]) {
        written.insert(components.joined(separator: "/"))
        var prefix = ""
        for part in components.dropLast() {
            prefix = prefix.isEmpty ? part : prefix + "/" + part
            writtenAncestors.insert(prefix)
        }
    }

    func resolve(_ components: [String], entry: TarEntry, createMissing: Bool, followLast: Bool = true) throws -> [String]? {
        do {
            return try paths.resolve(components, followLast: followLast, createMissing: createMissing) { [self] created in
                markWritten(created)
            }
        } catch .notADirectory(let path) {
            throw ArchiveError.extractionFailed(archive: archive, member: entry.path, reason: "'\(path)' in the root is not a directory")
        } catch .tooManySymlinks(let path) {
            throw unsafe(entry, "too many levels of symlinks at '\(path)'")
        } catch .system(let path, let reason) {
            throw ArchiveError.extractionFailed(archive: archive, member: entry.path, reason: "\(path): \(reason)")
        }
    }

    private func resolve(_ components: [String], entry: TarEntry, createMissing: Bool) throws -> [String] {
        try resolve(components, entry: entry, createMissing: createMissing, followLast: true) ?? []
    }

    func isDirectory(_ host: String) -> Bool {
        var info = stat()
        return lstat(host, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Linux's dev_t encoding (glibc's makedev): 12 bits of major and 20 of minor, split.
    static func deviceNumber(_ major: UInt32, _ minor: UInt32) -> dev_t {
        let ma = UInt64(major), mi = UInt64(minor)
        return dev_t((ma & 0xFFFF_F000) << 32 | (ma & 0xFFF) << 8 | (mi & 0xFFFF_FF00) << 12 | (mi & 0xFF))
    }

    func unsafe(_ entry: TarEntry, _ reason: String) -> ArchiveError {
        .unsafeMember(archive: archive, member: entry.path, reason: reason)
    }

    func failure(_ entry: TarEntry, _ operation: String, _ host: String) -> ArchiveError {
        .extractionFailed(archive: archive, member: entry.path, reason: "\(operation) \(host): \(String(cString: strerror(errno)))")
    }
}
