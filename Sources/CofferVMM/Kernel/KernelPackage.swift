import Foundation

/// A versioned Debian kernel image package, found through APT's package lists.
struct KernelPackage: Sendable {
    /// e.g. `linux-image-6.1.0-56-cloud-amd64`
    var name: String
    /// e.g. `6.1.192-2`
    var version: String
    /// The kernel release the package installs, e.g. `6.1.0-56-cloud-amd64`.
    var release: String { String(name.dropFirst(KernelPackage.prefix.count)) }

    static let prefix = "linux-image-"

    /// Follows a metapackage (linux-image-cloud-amd64 depends on exactly one versioned
    /// linux-image-<release>) to the package that holds the kernel; a versioned name resolves to itself.
    static func resolve(_ package: String) throws -> KernelPackage {
        guard package.hasPrefix(prefix), package.count > prefix.count,
              package.allSatisfy({ $0.isLetter || $0.isNumber || "-.+".contains($0) })
        else { throw VMMError.kernelPackage("\(package) is not a Debian kernel image package name (linux-image-...)") }
        let fields = try candidate(package)
        let imageDependencies = (fields["Depends"] ?? "").split(separator: ",").compactMap { clause -> String? in
            let name = clause.split(separator: "|")[0].trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init)
            return name.flatMap { $0.hasPrefix(prefix) ? $0 : nil }
        }
        if imageDependencies.count == 1, imageDependencies[0] != package {
            let target = try candidate(imageDependencies[0])
            return KernelPackage(name: imageDependencies[0], version: target["Version"] ?? "")
        }
        return KernelPackage(name: package, version: fields["Version"] ?? "")
    }

    /// `apt-cache show` of the candidate version, as fields.
    private static func candidate(_ package: String) throws -> [String: String] {
        let output: String
        do {
            output = try HostTool.run("apt-cache", ["show", "--no-all-versions", package], package: "apt")
        } catch VMMError.toolFailed {
            throw VMMError.kernelPackage("APT knows no package \(package): run `apt-get update` (or check the name)")
        }
        var fields: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), !line.hasPrefix(" ") else { continue }
            let key = String(line[..<colon])
            if fields[key] == nil { fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        guard fields["Package"] == package else {
            throw VMMError.kernelPackage("APT has no installable candidate for \(package): run `apt-get update`")
        }
        return fields
    }

    /// Downloads the .deb into `directory` and returns its path.
    func download(into directory: String) throws -> String {
        try HostTool.run("apt-get", ["download", "-q", "\(name)=\(version)"], package: "apt", directory: directory)
        let debs = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasSuffix(".deb") } ?? []
        guard debs.count == 1 else {
            throw VMMError.kernelPackage("apt-get download \(name) left \(debs.count) .deb files in \(directory)")
        }
        return "\(directory)/\(debs[0])"
    }
}
