import CofferTestSupport
import CofferVMM
import Foundation
import Testing

/// `coffer setup`'s kernel cache against the real Debian mirror.
@Suite struct KernelCacheTests {
    let fixture = GuestFixture.shared

    @Test func setupUnpacksTheCloudKernelOnceAndThenFindsIt() throws {
        let kernel = try fixture.kernel()
        #expect(kernel.release.hasSuffix("-cloud-amd64"))
        #expect(kernel.package == "linux-image-\(kernel.release)")
        #expect(FileManager.default.fileExists(atPath: kernel.vmlinuz))
        #expect(FileManager.default.fileExists(atPath: "\(kernel.modules)/modules.builtin"))
        #expect(FileManager.default.fileExists(atPath: "\(kernel.modules)/kernel/drivers/md/dm-verity.ko"))
        let vmlinuz = try #require(FileManager.default.contents(atPath: kernel.vmlinuz))
        // A bzImage: "HdrS" at 0x202 (Documentation/arch/x86/boot.rst).
        #expect(vmlinuz.count > 0x206 && vmlinuz[0x202..<0x206] == Data("HdrS".utf8))

        let again = try KernelCache(home: fixture.home).setup()
        #expect(!again.downloaded)
        #expect(again.kernel == kernel)
        #expect(KernelCache(home: fixture.home).installed().contains(kernel))
        #expect(KernelCache(home: fixture.home).defaultKernel() == kernel)
    }

    @Test func namesThatAreNotKernelPackagesAreRefusedWithAReason() throws {
        let home = try TemporaryDirectory("coffer-home")
        let cache = KernelCache(home: home.path)
        #expect(throws: VMMError.self) { try cache.setup(package: "bash") }
        do {
            _ = try cache.setup(package: "linux-image-does-not-exist-amd64")
            Issue.record("an unknown package was accepted")
        } catch {
            #expect("\(error)".contains("apt-get update"))
        }
        #expect(cache.installed().isEmpty)
        #expect(cache.defaultKernel() == nil)
    }
}
