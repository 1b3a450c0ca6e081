import CofferTestSupport
import CofferVMM
import Foundation
import Testing

/// The guest kernel's configuration fragment and build key, without building a kernel (the build
/// and boot are in CofferCLITests' GuestKernelCLITests).
struct GuestKernelBuildTests {
    static let fragmentPath = "\(Repository.root())/Sources/CofferVMM/Kernel/coffer-guest.config"

    func fragment() throws -> String { try String(contentsOfFile: Self.fragmentPath, encoding: .utf8) }

    /// Every line is blank, a comment, `CONFIG_X=value` or `# CONFIG_X is not set`: a typo such as
    /// `CONFIG_X y` would otherwise be a comment-like line Kconfig ignores silently.
    @Test func theFragmentHasOnlySettingsAndComments() throws {
        for line in try fragment().split(separator: "\n", omittingEmptySubsequences: false) {
            let text = String(line)
            if text.isEmpty || (text.hasPrefix("# ") && !text.hasPrefix("# CONFIG_")) { continue }
            let setting = text.range(of: #"^CONFIG_[A-Z0-9_]+=(y|[0-9-]+|"[^"]*")$"#, options: .regularExpression) != nil
            let unset = text.range(of: #"^# CONFIG_[A-Z0-9_]+ is not set$"#, options: .regularExpression) != nil
            #expect(setting || unset, "not a Kconfig setting: \(text)")
        }
    }

    /// What issue 13 lists is in: built in, never as a module, and modules off.
    @Test func theFragmentHasWhatTheGuestNeedsBuiltIn() throws {
        let settings = GuestKernelBuild.options(try fragment())
        let required = [
            "VIRTIO_MMIO", "VIRTIO_PCI", "VIRTIO_BLK", "VIRTIO_CONSOLE", "VIRTIO_NET", "DM_VERITY", "DM_CRYPT", "DM_INTEGRITY",
            "EROFS_FS", "OVERLAY_FS", "EXT4_FS", "TMPFS", "UNIX98_PTYS", "INTEL_TDX_GUEST", "TDX_GUEST_DRIVER",
            "AMD_MEM_ENCRYPT", "SEV_GUEST", "TSM_REPORTS", "EFI_STUB", "INET", "KERNEL_LZ4",
        ]
        for name in required { #expect(settings["CONFIG_\(name)"] == "y", "CONFIG_\(name)") }
        #expect(!settings.values.contains("m"))
        #expect(try fragment().contains("# CONFIG_MODULES is not set"))
    }

    @Test func unmetNamesDroppedAndWronglySetOptions() {
        let fragment = "# comment\nCONFIG_A=y\nCONFIG_B=y\nCONFIG_N=64\n# CONFIG_C is not set\n# CONFIG_D is not set\n"
        let config = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_N=8\nCONFIG_C=y\n"
        #expect(GuestKernelBuild.unmet(fragment: fragment, config: config) == [
            "CONFIG_B=y (is not set)", "CONFIG_N=64 (is 8)", "CONFIG_C not set (is y)",
        ])
        #expect(GuestKernelBuild.unmet(fragment: fragment, config: "CONFIG_A=y\nCONFIG_B=y\nCONFIG_N=64\n").isEmpty)
    }

    /// The cache key covers the source version and every byte of the fragment.
    @Test func theKeyChangesWithTheSourceVersionAndTheFragment() throws {
        let cache = KernelCache(home: "/nonexistent")
        let base = GuestKernelBuild(cache: cache, fragment: Array("CONFIG_A=y\n".utf8), sourceVersion: "6.12.118-1~deb12u1")
        var otherVersion = base
        otherVersion.sourceVersion = "6.12.119-1~deb12u1"
        var otherFragment = base
        otherFragment.fragment = Array("CONFIG_A=y\n\n".utf8)
        #expect(base.key.count == 64)
        #expect(base.key != otherVersion.key)
        #expect(base.key != otherFragment.key)
        #expect(base.key == GuestKernelBuild(cache: cache, fragment: base.fragment, sourceVersion: base.sourceVersion).key)
        #expect(base.entryName == "coffer-6.12.118-\(base.key.prefix(12))")
        #expect(otherVersion.entryName.hasPrefix("coffer-6.12.119-"))
    }

    /// A cache entry without `modules/` (the built kernel) has an empty module tree: no modules.
    @Test func aCachedKernelWithoutModulesHasAnEmptyModuleTree() throws {
        let home = try TemporaryDirectory("coffer-kernel-entry")
        let entry = home.file("kernel/coffer-6.12.118-abc")
        try FileManager.default.createDirectory(atPath: entry, withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: "\(entry)/vmlinuz"))
        try Data("linux-source-6.12 6.12.118-1~deb12u1\n".utf8).write(to: URL(fileURLWithPath: "\(entry)/package"))
        let kernel = try #require(KernelCache(home: home.path).kernel(release: "coffer-6.12.118-abc"))
        #expect(kernel.modules.isEmpty)
        #expect(kernel.vmlinuz == "\(entry)/vmlinuz")
        #expect(kernel.package == "linux-source-6.12")
    }
}
