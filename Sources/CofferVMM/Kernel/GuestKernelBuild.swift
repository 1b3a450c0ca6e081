import CofferCore
import Foundation

/// Coffer's own guest kernel: Debian's `linux-source-6.12` built with Coffer's configuration
/// fragment (`coffer-guest.config` beside this file) over `tinyconfig`, everything built in, no
/// modules. The result is cached as a `GuestKernel` entry, `$COFFER_HOME/kernel/<name>/`, with
/// `name` = `coffer-<upstream version>-<first 12 hex digits of the build key>`:
///
/// ```
/// vmlinuz              the bzImage
/// config               the full .config olddefconfig produced
/// coffer-guest.config  the fragment it was built from
/// package              "linux-source-6.12 <package version>", written last: the entry is complete
/// ```
///
/// There is no `modules/` directory: the initramfs of a launch on it carries no modules.
/// Reproducible (docs/decisions/0028-guest-kernel.md): the build key is the source package's
/// version, the fragment's bytes and `recipe`; the build's clock, user, host and version number are
/// pinned, so the same key gives the same bzImage bytes on any machine with the same toolchain.
public struct GuestKernelBuild: Sendable {
    public static let sourcePackage = "linux-source-6.12"
    public static let sourceTarball = "/usr/src/linux-source-6.12.tar.xz"
    /// The fragment's name in the source tree and in each cache entry.
    public static let fragmentName = "coffer-guest.config"
    /// Bumped whenever the steps below change what a given source and fragment produce.
    static let recipe = 1

    /// What the kernel's build stamps into the image (`uname -v`, /proc/version): fixed values.
    public static let pinnedEnvironment = [
        "KBUILD_BUILD_TIMESTAMP": "1970-01-01 00:00:00 UTC",
        "KBUILD_BUILD_USER": "coffer",
        "KBUILD_BUILD_HOST": "coffer",
        "KBUILD_BUILD_VERSION": "1",
        "LC_ALL": "C",
        "TZ": "UTC",
    ]

    public var cache: KernelCache
    /// The configuration fragment's bytes.
    public var fragment: [UInt8]
    /// The source package's version, e.g. `6.12.118-1~deb12u1`.
    public var sourceVersion: String

    public init(cache: KernelCache, fragment: [UInt8], sourceVersion: String) {
        self.cache = cache
        self.fragment = fragment
        self.sourceVersion = sourceVersion
    }

    /// The build of `fragmentPath` with the installed source package; fails, saying what to install,
    /// when the package is missing.
    public static func installed(cache: KernelCache, fragmentPath: String) throws -> GuestKernelBuild {
        guard let data = FileManager.default.contents(atPath: fragmentPath) else {
            throw VMMError.file(path: fragmentPath, reason: "the kernel configuration fragment cannot be read")
        }
        let version: String
        do {
            version = try HostTool.run("dpkg-query", ["-W", "-f=${Version}", sourcePackage], package: "dpkg")
        } catch VMMError.toolFailed {
            throw VMMError.kernelPackage("\(sourcePackage) is not installed: run scripts/install-deps (or apt-get install \(sourcePackage))")
        }
        guard !version.isEmpty, FileManager.default.fileExists(atPath: sourceTarball) else {
            throw VMMError.kernelPackage("\(sourcePackage) is not installed (no \(sourceTarball)): run scripts/install-deps")
        }
        return GuestKernelBuild(cache: cache, fragment: [UInt8](data), sourceVersion: version)
    }

    /// SHA-256 of the recipe number, the source version and the fragment, in hex.
    public var key: String {
        var digest = SHA256Digest()
        digest.update(Array("coffer-guest-kernel \(Self.recipe)\n\(Self.sourcePackage) \(sourceVersion)\n".utf8))
        digest.update(fragment)
        return Hex.encode(digest.finalize())
    }

    /// `coffer-6.12.118-<key prefix>`.
    public var entryName: String {
        let upstream = sourceVersion.split(separator: "-").first.map(String.init) ?? sourceVersion
        return "coffer-\(upstream)-\(key.prefix(12))"
    }

    /// The cached build of this key, if complete.
    public func cached() -> GuestKernel? { cache.kernel(release: entryName) }

    /// What `build` did.
    public struct Result: Sendable {
        public var kernel: GuestKernel
        /// False when the kernel was already in the cache.
        public var built: Bool
    }

    /// Builds the kernel unless this key is cached. `output` gets make's output when given (a
    /// terminal); otherwise it goes to a log whose tail a failure quotes.
    ///
    /// Concurrent builds of one key (two `coffer setup`s, parallel test suites) take turns on a
    /// lock file: the second waits, then finds the first one's entry and builds nothing.
    public func build(jobs: Int, output: FileHandle? = nil, log: (String) -> Void = { _ in }) throws -> Result {
        if let cached = cached() { return Result(kernel: cached, built: false) }
        let files = FileManager.default
        try files.createDirectory(atPath: cache.root, withIntermediateDirectories: true)
        let lockPath = "\(cache.root)/.build-\(key.prefix(12)).lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw VMMError.file(path: lockPath, reason: "cannot open the build lock: \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        if flock(lock, LOCK_EX | LOCK_NB) != 0 {
            log("waiting for another build of \(entryName)")
            while flock(lock, LOCK_EX) != 0 {
                guard errno == EINTR else { throw VMMError.file(path: lockPath, reason: "cannot take the build lock: \(String(cString: strerror(errno)))") }
            }
        }
        if let cached = cached() { return Result(kernel: cached, built: false) }
        // One build directory per key, at a fixed path: a rerun after a failure starts afresh there.
        let work = "\(cache.root)/.build-\(key.prefix(12))"
        try? files.removeItem(atPath: work)
        try files.createDirectory(atPath: work, withIntermediateDirectories: false)
        defer { try? files.removeItem(atPath: work) }
        let source = "\(work)/source"
        try files.createDirectory(atPath: source, withIntermediateDirectories: false)
        let fragmentPath = "\(work)/\(Self.fragmentName)"
        try Data(fragment).write(to: URL(fileURLWithPath: fragmentPath))

        log("unpacking \(Self.sourcePackage) \(sourceVersion)")
        try HostTool.run("tar", ["-xf", Self.sourceTarball, "-C", source, "--strip-components=1"], package: "tar")
        let logPath = "\(work)/build.log"
        let make = { (arguments: [String]) throws in
            try Self.runLogged(["make", "ARCH=x86_64"] + arguments, in: source, output: output, logPath: logPath)
        }
        log("configuring: tinyconfig + \(Self.fragmentName)")
        try make(["tinyconfig"])
        try Self.runLogged(["scripts/kconfig/merge_config.sh", "-m", ".config", fragmentPath], in: source, output: output, logPath: logPath)
        try make(["olddefconfig"])
        let config = try String(contentsOfFile: "\(source)/.config", encoding: .utf8)
        let dropped = Self.unmet(fragment: String(decoding: fragment, as: UTF8.self), config: config)
        guard dropped.isEmpty else {
            throw VMMError.kernelPackage(
                "the configuration lost options of \(Self.fragmentName) (a dependency is missing): \(dropped.joined(separator: ", "))")
        }
        log("building bzImage with \(jobs) job(s)")
        try make(["-j\(max(1, jobs))", "bzImage"])

        let entry = "\(work)/entry"
        try files.createDirectory(atPath: entry, withIntermediateDirectories: false)
        try files.moveItem(atPath: "\(source)/arch/x86/boot/bzImage", toPath: "\(entry)/vmlinuz")
        try files.moveItem(atPath: "\(source)/.config", toPath: "\(entry)/config")
        try files.moveItem(atPath: fragmentPath, toPath: "\(entry)/\(Self.fragmentName)")
        try Data("\(Self.sourcePackage) \(sourceVersion)\n".utf8).write(to: URL(fileURLWithPath: "\(entry)/\(GuestKernel.completionMarker)"))
        let final = "\(cache.root)/\(entryName)"
        do {
            try files.moveItem(atPath: entry, toPath: final)
        } catch {
            // Another build of the same key finished first: its entry is complete, keep it.
            if let cached = cached() { return Result(kernel: cached, built: false) }
            throw VMMError.file(path: final, reason: "cannot store the built kernel: \(error)")
        }
        guard let kernel = cached() else { throw VMMError.kernelPackage("the built kernel in \(final) is incomplete") }
        return Result(kernel: kernel, built: true)
    }

    /// The fragment's settings a full `.config` does not have: `CONFIG_X=v` lines whose value
    /// differs, and `# CONFIG_X is not set` lines that are set. Comments and blank lines are skipped.
    public static func unmet(fragment: String, config: String) -> [String] {
        let values = options(config)
        var unmet: [String] = []
        for line in fragment.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("CONFIG_"), let equals = line.firstIndex(of: "=") {
                let name = String(line[..<equals]), value = String(line[line.index(after: equals)...])
                if values[name] != value { unmet.append("\(name)=\(value) (is \(values[name] ?? "not set"))") }
            } else if line.hasPrefix("# CONFIG_"), line.hasSuffix(" is not set") {
                let name = String(line.dropFirst(2).dropLast(" is not set".count))
                if let value = values[name] { unmet.append("\(name) not set (is \(value))") }
            }
        }
        return unmet
    }

    /// The options a `.config` sets (`CONFIG_X=value` lines), by name.
    public static func options(_ config: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in config.split(separator: "\n") where line.hasPrefix("CONFIG_") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    /// Runs a build step in `directory` with the pinned environment; its output goes to `output`
    /// or is appended to `logPath`, whose last lines a failure quotes.
    static func runLogged(_ command: [String], in directory: String, output: FileHandle?, logPath: String) throws {
        // A relative path (scripts/...) is the source tree's; a bare name is looked up on PATH.
        guard let executable = command[0].contains("/") ? "\(directory)/\(command[0])" : HostTool.find(command[0]) else {
            throw VMMError.missingTool(command[0], package: command[0])
        }
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let logHandle = FileHandle(forWritingAtPath: logPath) else {
            throw VMMError.file(path: logPath, reason: "cannot write the build log")
        }
        defer { try? logHandle.close() }
        logHandle.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(pinnedEnvironment) { _, pinned in pinned }
        process.standardOutput = output ?? logHandle
        process.standardError = output ?? logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let tail = (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").suffix(30).joined(separator: "\n") ?? ""
            throw VMMError.toolFailed(command.joined(separator: " "), status: process.terminationStatus, output: tail)
        }
    }
}
