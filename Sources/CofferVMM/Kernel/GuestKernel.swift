import Foundation

/// A guest kernel unpacked in Coffer's cache, `$COFFER_HOME/kernel/<release>/`:
///
/// ```
/// vmlinuz     the bzImage QEMU boots directly
/// config      the kernel's build configuration
/// modules/    lib/modules/<release> from the package (kernel/, modules.builtin, ...)
/// package     "<package name> <package version>", written last: the entry is complete
/// ```
public struct GuestKernel: Sendable, Equatable {
    /// The kernel release (`uname -r` in the guest), e.g. `6.1.0-56-cloud-amd64`.
    public var release: String
    public var directory: String
    /// The Debian package it came from and its version, e.g. `linux-image-6.1.0-56-cloud-amd64`, `6.1.192-2`.
    public var package: String
    public var packageVersion: String

    public var vmlinuz: String { "\(directory)/vmlinuz" }
    public var modules: String { "\(directory)/modules" }

    static let completionMarker = "package"

    /// The cache entry in `directory`, or nil when it is absent or incomplete.
    static func load(from directory: String) -> GuestKernel? {
        guard let marker = try? String(contentsOfFile: "\(directory)/\(completionMarker)", encoding: .utf8) else { return nil }
        let fields = marker.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, FileManager.default.fileExists(atPath: "\(directory)/vmlinuz") else { return nil }
        return GuestKernel(
            release: (directory as NSString).lastPathComponent, directory: directory,
            package: String(fields[0]), packageVersion: String(fields[1]))
    }
}
