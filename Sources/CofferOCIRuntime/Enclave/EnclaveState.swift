#if canImport(Glibc)
import Glibc
import CofferJSON

#endif

/// coffer-runtime's own state for one enclave container: `<root>.coffer/<id>/` beside runc's
/// `<root>/<id>/` (docs/decisions: runc's root stays runc's, and `runc list` never meets a
/// directory it cannot load).
///
/// ```
/// <root>.coffer/<id>/
///   origin              the user's bundle directory (what `state` reports)
///   started             present once `start` reached the PAL host
///   bundle/config.json  the rewritten config runc runs
///   pal/                mounted read-only at /dev/coffer-pal: mount points for the PAL host,
///                       its loader and libraries and the PAL
///   control/            mounted read-write at /dev/coffer-pal/control: pal.sock, init-result
/// ```
public struct EnclaveState: Sendable {
    public var directory: String

    public init(root: String, id: String) {
        directory = Self.stateRoot(forRuncRoot: root) + "/" + id
    }

    public static func stateRoot(forRuncRoot root: String) -> String { FileSystem.absolute(root) + ".coffer" }

    public var bundle: String { directory + "/bundle" }
    public var pal: String { directory + "/pal" }
    public var control: String { directory + "/control" }
    public var socket: String { control + "/pal.sock" }
    public var initResult: String { control + "/init-result" }
    var originFile: String { directory + "/origin" }
    var startedFile: String { directory + "/started" }

    /// Whether this container is an enclave container Coffer prepared (one stat, on every command).
    public var exists: Bool { FileSystem.isDirectory(directory) }

    public var origin: String? {
        guard let bytes = try? FileSystem.read(originFile) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    public var isStarted: Bool { FileSystem.exists(startedFile) }

    public func markStarted() throws(OCIError) { try FileSystem.touch(startedFile) }

    /// Lays out the directories and mount points and writes the rewritten config. Refuses an id
    /// that already has state, so two creates cannot share one.
    public func prepare(config: JSONValue, origin: String, files: PALHostFiles) throws(OCIError) {
        try FileSystem.makeDirectories(FileSystem.normalized(directory + "/.."), mode: 0o711)
        guard mkdir(directory, 0o711) == 0 else {
            if errno == EEXIST { throw .invalidBundle("container \(directory.split(separator: "/").last ?? "") already exists") }
            throw .system("cannot create \(directory): \(FileSystem.errorText())")
        }
        do {
            for path in [bundle, pal, pal + "/lib", pal + "/control", control] {
                try FileSystem.makeDirectories(path)
            }
            try FileSystem.touch(pal + "/coffer-pal-host")
            for library in files.libraries { try FileSystem.touch(pal + "/lib/" + library.name) }
            try FileSystem.write(originFile, origin)
            try FileSystem.write(bundle + "/config.json", config.serialized)
        } catch {
            remove()
            throw error
        }
    }

    public func remove() { FileSystem.removeTree(directory) }

    /// What the PAL host wrote after pal_init: nil while it has not, "" for success, else its error.
    public func readInitResult() -> String? {
        guard let bytes = try? FileSystem.read(initResult) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        if text == "ok" { return "" }
        return text.hasPrefix("error: ") ? String(text.dropFirst(7)) : text
    }
}
