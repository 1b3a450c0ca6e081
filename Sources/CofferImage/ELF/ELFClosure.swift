#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One file the guest's dynamic loader will open.
public struct ELFDependency: Sendable, Hashable {
    /// Absolute path where ld.so in the guest will look for it: the path it was found at (symlink
    /// names kept, e.g. `/lib64/ld-linux-x86-64.so.2`), so the image must hold a file there. For
    /// the interpreter this is exactly the program's PT_INTERP.
    public var guestPath: String
    /// The real file on the build host to copy there (every symbolic link resolved).
    public var hostPath: String

    public init(guestPath: String, hostPath: String) {
        self.guestPath = guestPath
        self.hostPath = hostPath
    }
}

/// The shared-library closure of a program, resolved the way glibc's ld.so resolves it at run time
/// (ld.so(8); glibc elf/dl-load.c `_dl_map_object`, elf/dl-deps.c `_dl_map_object_deps`):
///
/// 1. the interpreter, at its PT_INTERP path;
/// 2. breadth first over DT_NEEDED, each name loaded once: a name already loaded (as a DT_NEEDED
///    name or a DT_SONAME) is reused, and so is a file already loaded under another name;
/// 3. for each name: a name with "/" is a path; otherwise DT_RPATH of the object that needs it and
///    of each object that loaded that one, up to the program (only when the object has no
///    DT_RUNPATH), then DT_RUNPATH of the object, then /etc/ld.so.cache, then the default
///    directories. Files of another ELF class or machine are skipped, as ld.so skips them.
///
/// LD_LIBRARY_PATH is ignored on purpose: it is the build host's environment, and the image must
/// not change with whoever runs `coffer build`. Also not modelled: the hwcaps subdirectories
/// (glibc-hwcaps/x86-64-v3, tls, x86_64) that ld.so tries inside each directory, which depend on
/// the CPU, and DF_1_NODEFLIB.
public enum ELFClosure {
    /// Resolves the libraries `binary` needs, interpreter first, then in load order.
    ///
    /// - Parameters:
    ///   - binary: the program, as a path inside `root`.
    ///   - root: the directory ld.so's view starts from: "/" for the build host's own libraries,
    ///     or an unpacked root file system.
    ///   - guestBinaryPath: where the program will sit in the image, if not at `binary`; only
    ///     `$ORIGIN` depends on it.
    /// - Returns: no dependencies for a static program.
    /// - Throws: `ELFError`: `notELF`/`notX8664`/`truncated` for the program or a library,
    ///   `missingLibrary` naming the library and who needs it.
    public static func resolve(binary: String, root: String = "/", guestBinaryPath: String? = nil) throws -> [ELFDependency] {
        var program = binary
        if !binary.hasPrefix("/"), ELFRoot(root).prefix.isEmpty {
            // A relative path names a file on the build host, from the working directory.
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            if let cwd = getcwd(&buffer, buffer.count) { program = String(cString: cwd) + "/" + binary }
        }
        var search = ELFLibrarySearch(root: ELFRoot(root))
        return try search.closure(binary: program, guestBinaryPath: guestBinaryPath)
    }
}

/// The state of one closure resolution: what is loaded, under which names.
struct ELFLibrarySearch {
    struct Loaded {
        var object: ELFObject
        var name: String
        var origin: ELFSearchPath.Origin
        /// Index of the object whose DT_NEEDED loaded this one; nil for the program.
        var loader: Int?
    }

    let root: ELFRoot
    var cache: LDSOCache?
    var loaded: [Loaded] = []
    var byName: [String: Int] = [:]
    var byFile: [String: Int] = [:]
    var dependencies: [ELFDependency] = []

    init(root: ELFRoot) { self.root = root }

    mutating func closure(binary: String, guestBinaryPath: String?) throws(ELFError) -> [ELFDependency] {
        guard let program = try root.find(binary) else { throw .unreadable(path: binary, errno: ENOENT) }
        let (kind, parsed) = try ELFObject.read(try ELFFile(path: program.hostPath))
        guard let object = parsed else {
            if case .otherMachine(let found) = kind { throw .notX8664(path: binary, found: found) }
            throw .notELF(path: binary)
        }
        let guestProgram = guestBinaryPath ?? program.resolvedPath
        loaded.append(Loaded(
            object: object, name: binary,
            origin: .init(guest: Self.directory(of: guestProgram), build: Self.directory(of: program.resolvedPath)),
            loader: nil))
        byFile[Self.identity(program)] = 0
        if let interpreter = object.interpreter { try loadInterpreter(interpreter, neededBy: binary) }
        var next = 0
        while next < loaded.count {
            for name in loaded[next].object.needed where byName[name] == nil {
                try load(name, neededBy: next)
            }
            next += 1
        }
        return dependencies
    }

    private mutating func loadInterpreter(_ path: String, neededBy binary: String) throws(ELFError) {
        guard let found = try root.find(path) else { throw .missingLibrary(name: path, neededBy: binary) }
        let (kind, parsed) = try ELFObject.read(try ELFFile(path: found.hostPath))
        guard let object = parsed else {
            if case .otherMachine(let what) = kind { throw .notX8664(path: path, found: what) }
            throw .notELF(path: path)
        }
        register(object, name: path, found: found, guestPath: path, origin: nil, loader: 0)
    }

    private mutating func load(_ name: String, neededBy index: Int) throws(ELFError) {
        let candidates = candidates(for: name, neededBy: index)
        for candidate in candidates {
            guard let found = try root.find(candidate.build) else { continue }
            if let existing = byFile[Self.identity(found)] {
                byName[name] = existing
                return
            }
            let (_, parsed) = try ELFObject.read(try ELFFile(path: found.hostPath))
            /// Another class or machine: ld.so's `open_verify` skips the file and keeps searching.
            guard let object = parsed else { continue }
            let origin = ELFSearchPath.Origin(
                guest: Self.directory(of: candidate.guest), build: Self.directory(of: candidate.build))
            register(object, name: name, found: found, guestPath: candidate.guest, origin: origin, loader: index)
            return
        }
        throw .missingLibrary(name: name, neededBy: loaded[index].name)
    }

    private mutating func register(
        _ object: ELFObject, name: String, found: ELFRoot.Found, guestPath: String,
        origin: ELFSearchPath.Origin?, loader: Int
    ) {
        let index = loaded.count
        let directory = Self.directory(of: guestPath)
        loaded.append(Loaded(
            object: object, name: guestPath, origin: origin ?? .init(guest: directory, build: directory), loader: loader))
        byName[name] = index
        if let soname = object.soname, byName[soname] == nil { byName[soname] = index }
        byFile[Self.identity(found)] = index
        dependencies.append(ELFDependency(guestPath: guestPath, hostPath: found.hostPath))
    }

    /// Every path to try for `name`, in ld.so's order, as (guest path, path in the build root).
    private mutating func candidates(for name: String, neededBy index: Int) -> [ELFSearchPath.Directory] {
        if name.contains("/") {
            return name.hasPrefix("/") ? [.init(guest: name, build: name)] : []
        }
        var directories: [ELFSearchPath.Directory] = []
        let requester = loaded[index]
        if requester.object.runpath == nil {
            var chain: Int? = index
            while let current = chain {
                if let rpath = loaded[current].object.rpath {
                    directories += ELFSearchPath.directories(rpath, origin: loaded[current].origin)
                }
                chain = loaded[current].loader
            }
        }
        // LD_LIBRARY_PATH would come here; see the type's comment for why it is ignored.
        if let runpath = requester.object.runpath {
            directories += ELFSearchPath.directories(runpath, origin: requester.origin)
        }
        var paths = directories.map {
            ELFSearchPath.Directory(guest: ELFSearchPath.join($0.guest, name), build: $0.build + "/" + name)
        }
        if let cached = ldsoCache().path(of: name) { paths.append(.init(guest: cached, build: cached)) }
        paths += ELFSearchPath.defaults.map { .init(guest: $0 + "/" + name, build: $0 + "/" + name) }
        return paths
    }

    /// /etc/ld.so.cache of the root, read once. A missing or unreadable cache is an empty one, as
    /// for ld.so; a malformed one is ignored the same way (ld.so then uses the default dirs).
    private mutating func ldsoCache() -> LDSOCache {
        if let cache { return cache }
        var parsed = LDSOCache()
        if let file = try? ELFFile(path: root.hostPath("/etc/ld.so.cache")),
            let bytes = try? file.read(file.size, at: 0, "ld.so.cache"),
            let cache = try? LDSOCache.parse(bytes, path: file.path)
        {
            parsed = cache
        }
        cache = parsed
        return parsed
    }

    private static func identity(_ found: ELFRoot.Found) -> String { "\(found.device):\(found.inode)" }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
