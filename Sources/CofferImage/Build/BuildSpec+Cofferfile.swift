import CofferCore
import Foundation

extension BuildSpec {
    /// The build a Cofferfile describes. Entries without a destination keep their path relative to
    /// the Cofferfile's directory (`app/server` → `/app/server`), or their own path when they live
    /// elsewhere on the host (`/usr/bin/curl` → `/usr/bin/curl`).
    public init(cofferfile: CofferfileSpec, directory: String) throws(CofferError) {
        self.init()
        switch cofferfile.base {
        case .rootfs(let path): rootfsArchives = [path]
        case .oci(let path): ociImages = [path]
        case nil: break
        }
        func placement(_ copy: CofferfileSpec.Copy, _ key: String) throws(CofferError) -> Placement {
            let base = directory.hasSuffix("/") ? directory : directory + "/"
            let destination = copy.destination
                ?? (copy.source.hasPrefix(base) ? "/" + copy.source.dropFirst(base.count) : copy.source)
            return try Placement(source: copy.source, destination: destination, flag: "Cofferfile \(key)")
        }
        files = try cofferfile.files.map { copy throws(CofferError) in try placement(copy, "files") }
        binaries = try cofferfile.binaries.map { copy throws(CofferError) in try placement(copy, "binaries") }
        entrypoint = cofferfile.entrypoint
        cmd = cofferfile.cmd
        env = cofferfile.env
        workdir = cofferfile.workdir
        user = cofferfile.user
        memoryBytes = cofferfile.memoryBytes
        exec = cofferfile.exec
    }

    /// Loads a Cofferfile and returns the build it describes with the tag it names, if any.
    public static func load(cofferfile path: String) throws(CofferError) -> (spec: BuildSpec, tag: String?) {
        let parsed: CofferfileSpec
        do { parsed = try Cofferfile.load(path: path) } catch { throw error.cofferError }
        let directory = (URL(fileURLWithPath: path).standardizedFileURL.path as NSString).deletingLastPathComponent
        return (try BuildSpec(cofferfile: parsed, directory: directory), parsed.reference)
    }
}
