import ArgumentParser
import CofferCore
import CofferVMM
import Foundation

/// `coffer setup`: fetches the guest kernel into Coffer's cache and reports what VMs will run on.
struct SetupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Download the guest kernel into Coffer's cache and check the host (idempotent).",
        discussion: """
            The kernel comes from Debian's package (apt-get download + dpkg -x): nothing is \
            installed on the host and /boot is not touched. It is unpacked into \
            $COFFER_HOME/kernel/<release>/ (vmlinuz, config, modules/).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .customLong("kernel-package"), help: "The Debian kernel image package (a metapackage or a versioned one).")
    var kernelPackage = KernelCache.defaultPackage

    func run() throws {
        try reportingErrors {
            do {
                let cache = KernelCache(home: storeOptions.store.home)
                let result = try cache.setup(package: kernelPackage) { message in
                    FileHandle.standardError.write(Data("setup: \(message)\n".utf8))
                }
                let kernel = result.kernel
                print("kernel      \(kernel.release) (\(kernel.package) \(kernel.packageVersion))\(result.downloaded ? "" : ", already cached")")
                print("vmlinuz     \(kernel.vmlinuz)")
                print("modules     \(kernel.modules)")
                let choice = AcceleratorChoice.choose(.auto, host: HostFacts.probe())
                print("accelerator \(choice.reason)")
                print("qemu        \(VMSupervisor.qemuPath() ?? "not installed: install qemu-system-x86 (scripts/install-deps)")")
            } catch {
                throw CofferError.from(error)
            }
        }
    }
}
