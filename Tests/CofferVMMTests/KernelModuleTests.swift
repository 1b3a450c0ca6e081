import CofferTestSupport
import CofferVMM
import Foundation
import Testing

/// Module metadata and load order, from the real cloud kernel package.
@Suite struct KernelModuleTests {
    let fixture = GuestFixture.shared

    @Test func readsDependenciesFromModinfo() throws {
        let kernel = try fixture.kernel()
        let path = "\(kernel.modules)/kernel/drivers/md/dm-verity.ko"
        let info = try ModuleInfo(elf: [UInt8](try #require(FileManager.default.contents(atPath: path))), path: path)
        #expect(info.name == "dm_verity")
        #expect(Set(info.depends) == ["reed_solomon", "dm-mod", "dm-bufio"])
    }

    @Test func loadOrderPutsEveryModuleAfterItsDependencies() throws {
        let kernel = try fixture.kernel()
        let tree = try ModuleTree(root: kernel.modules)
        let order = try tree.loadOrder(for: Initramfs.defaultModules)
        let names = order.map(\.name)
        #expect(Set(names).count == names.count)
        for module in order {
            let info = try ModuleInfo(elf: module.bytes, path: module.relativePath)
            let position = try #require(names.firstIndex(of: module.name))
            for dependency in info.depends.map(ModuleName.normalized) {
                #expect(names.firstIndex(of: dependency).map { $0 < position } == true, "\(dependency) before \(module.name)")
            }
        }
        for wanted in Initramfs.defaultModules where !tree.isBuiltin(wanted) { #expect(names.contains(wanted)) }
        // The same request gives the same order.
        #expect(try tree.loadOrder(for: Initramfs.defaultModules).map(\.name) == names)
    }

    @Test func builtInModulesAreSkippedAndUnknownOnesNamed() throws {
        let tree = try ModuleTree(root: try fixture.kernel().modules)
        #expect(tree.isBuiltin("crc32c_generic"))
        #expect(try tree.loadOrder(for: ["crc32c-generic"]).isEmpty)
        #expect(throws: VMMError.self) { try tree.loadOrder(for: ["no_such_module"]) }
        do {
            _ = try tree.loadOrder(for: ["no_such_module"])
        } catch {
            #expect("\(error)".contains("no_such_module"))
        }
    }

    /// Every truncation and many byte flips of a real module give an error or a result, never a trap.
    @Test func damagedModulesNeverTrap() throws {
        let kernel = try fixture.kernel()
        let path = "\(kernel.modules)/kernel/lib/libcrc32c.ko"
        let bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        var failures = 0
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) {
            if (try? ModuleInfo(elf: Array(bytes.prefix(length)), path: path)) == nil { failures += 1 }
        }
        #expect(failures > 0)
        for offset in [0x28, 0x2C, 0x3A, 0x3C, 0x3E, 0x3F] {
            for value: UInt8 in [0x00, 0x7F, 0xFF] {
                var damaged = bytes
                damaged[offset] = value
                _ = try? ModuleInfo(elf: damaged, path: path)
            }
        }
        #expect(throws: VMMError.self) { try ModuleInfo(elf: Array("not an elf".utf8), path: "x.ko") }
    }

    /// A tree that ships a module compressed says so instead of claiming the module is missing.
    @Test func compressedModulesAreNamedAsSuch() throws {
        let tree = try TemporaryDirectory("modules")
        try tree.write("modules.builtin", "kernel/crypto/sha256_generic.ko\n")
        try tree.write("kernel/fs/erofs/erofs.ko.xz", "not really xz")
        let modules = try ModuleTree(root: tree.path)
        #expect(modules.isBuiltin("sha256-generic"))
        let error = try #require(throws: VMMError.self) { try modules.loadOrder(for: ["erofs"]) }
        #expect("\(error)".contains("compressed"))
    }
}

/// The encrypted volume stack of decision 0023 on the real cloud kernel: every algorithm its
/// tables name is built in or loaded, since the guest has no modprobe to fetch one on demand.
@Suite struct VolumeModuleTests {
    @Test func theVolumeTablesFindEveryModuleAndAlgorithmTheyNeed() throws {
        let tree = try ModuleTree(root: try GuestFixture.shared.kernel().modules)
        let names = try tree.loadOrder(for: Initramfs.defaultModules).map(\.name)
        for module in ["dm_mod", "dm_bufio", "xor", "async_tx", "async_xor", "dm_integrity", "ecb", "xts", "dm_crypt"] {
            #expect(names.contains(module), "\(module) is loaded")
        }
        // hmac(sha256) for the tags and the journal MAC, aes for xts(aes): in the kernel image.
        for builtin in ["hmac", "sha256_generic", "aes_generic"] { #expect(tree.isBuiltin(builtin), "\(builtin) is built in") }
        // dm-verity and dm-integrity share dm-mod and dm-bufio: loaded once, before both.
        #expect(names.filter { $0 == "dm_mod" }.count == 1)
        #expect(names.firstIndex(of: "dm_mod")! < names.firstIndex(of: "dm_verity")!)
    }
}
