import Foundation

/// A guest kernel unpacked in Coffer's cache, `$COFFER_HOME/kernel/<release>/`:
///
/// ```
/// vmlinuz     the bzImage QEMU boots directly
/// config      the kernel's build configuration
/// modules/    lib/modules/<release> from the package (kernel/, modules.builtin, ...); absent for
///             Coffer's own kernel (GuestKernelBuild), which has no modules
/// package     "<package name> <package version>", written last: the entry is complete
/// ```
public struct GuestKernel: Sendable, Equatable {
    /// The kernel release (`uname -r` in the guest), e.g. `6.1.0-56-cloud-amd64`.
    public var release: String
    public var directory: String
    /// The Debian package it came from and its version, e.g. `linux-image-6.1.0-56-cloud-amd64`, `6.1.192-2`.
    public var package: String
    public var packageVersion: String

    /// A bzImage given with `--kernel` instead of the cached one's.
    public var image: String?
    /// The module tree given with `--kernel-modules`, instead of the cached one's.
    public var moduleTree: String?

    public var vmlinuz: String { image ?? "\(directory)/vmlinuz" }
    public var modules: String { moduleTree ?? "\(directory)/modules" }

    /// Any bzImage (`--kernel`), with its `lib/modules/<release>` tree when it has modules. Without
    /// one, the initramfs carries no modules: the kernel must have virtio-mmio, virtio-blk,
    /// virtio-console, dm-verity, EROFS and overlayfs built in, or the agent's boot fails (and
    /// the launch error quotes the console).
    public static func custom(image: String, modules: String?) throws(VMMError) -> GuestKernel {
        guard let handle = FileHandle(forReadingAtPath: image), let header = try? handle.read(upToCount: 64 * 1024) else {
            throw .file(path: image, reason: "the kernel image cannot be read")
        }
        try? handle.close()
        let release = try Self.release(ofBzImage: [UInt8](header), path: image)
        if let modules {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: "\(modules)/modules.builtin", isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw .file(path: modules, reason: "not a kernel module tree (lib/modules/<release>): it has no modules.builtin")
            }
        }
        return GuestKernel(
            release: release, directory: (image as NSString).deletingLastPathComponent, package: "custom", packageVersion: "-",
            image: image, moduleTree: modules ?? "")
    }

    /// The release a bzImage names in its setup header (the Linux boot protocol, >= 2.00: "HdrS" at
    /// 0x202, the kernel_version string at 0x200 + the 16-bit pointer at 0x20E), its first word.
    static func release(ofBzImage header: [UInt8], path: String) throws(VMMError) -> String {
        guard header.count > 0x210, header[0x202..<0x206].elementsEqual(Array("HdrS".utf8)) else {
            throw .file(path: path, reason: "not a Linux bzImage (no \"HdrS\" boot header at 0x202)")
        }
        let pointer = Int(header[0x20E]) | Int(header[0x20F]) << 8
        let start = 0x200 + pointer
        guard pointer != 0, start < header.count else { return "custom" }
        let word = header[start...].prefix { $0 > 0x20 && $0 < 0x7F }.prefix(64)
        return word.isEmpty ? "custom" : String(decoding: word, as: UTF8.self)
    }

    /// How many options its build configuration (`config` beside the bzImage, as in every cache
    /// entry) builds in (`=y`) and as modules (`=m`); nil when there is none.
    public var optionCounts: (builtIn: Int, modules: Int)? {
        let path = "\((vmlinuz as NSString).deletingLastPathComponent)/config"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let values = GuestKernelBuild.options(text).values
        return (values.filter { $0 == "y" }.count, values.filter { $0 == "m" }.count)
    }

    static let completionMarker = "package"

    /// The cache entry in `directory`, or nil when it is absent or incomplete.
    static func load(from directory: String) -> GuestKernel? {
        guard let marker = try? String(contentsOfFile: "\(directory)/\(completionMarker)", encoding: .utf8) else { return nil }
        let fields = marker.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, FileManager.default.fileExists(atPath: "\(directory)/vmlinuz") else { return nil }
        // Coffer's own kernel (GuestKernelBuild) has everything built in and no module tree.
        let hasModules = FileManager.default.fileExists(atPath: "\(directory)/modules")
        return GuestKernel(
            release: (directory as NSString).lastPathComponent, directory: directory,
            package: String(fields[0]), packageVersion: String(fields[1]), image: nil, moduleTree: hasModules ? nil : "")
    }
}
