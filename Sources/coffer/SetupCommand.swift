import ArgumentParser
import CofferCore
import CofferVMM
import Foundation

/// `coffer setup`: fetches the guest kernel into Coffer's cache and reports what VMs will run on.
struct SetupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Build or fetch the guest kernel into Coffer's cache, make it the default, and check the host (idempotent).",
        discussion: """
            By default the guest kernel is Coffer's own (decision 0040): built from Debian's \
            linux-source-6.12 with Coffer's configuration fragment, everything built in and no \
            modules, reproducibly (`coffer kernel build`). The first build takes minutes (about 10 \
            on two cores; make's output is shown on a terminal); it is cached by source version \
            and fragment, so later runs cost nothing. --kernel-package takes a Debian kernel \
            package instead (apt-get download + dpkg -x, e.g. linux-image-cloud-amd64 or \
            linux-image-6.12-cloud-amd64), with its modules: nothing is installed on the host and \
            /boot is not touched. Either is unpacked into $COFFER_HOME/kernel/<release>/ and \
            becomes the default; `coffer run --kernel` picks another for one launch.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .customLong("kernel-package"), help: "A Debian kernel image package (a metapackage or a versioned one) instead of Coffer's kernel.")
    var kernelPackage: String?
    @Option(help: "Coffer's kernel: the configuration fragment (as for `coffer kernel build`).") var config: String?
    @Option(help: "Coffer's kernel: parallel make jobs (default: the number of CPUs).") var jobs: Int?

    func run() throws {
        try reportingErrors {
            do {
                let home = storeOptions.store.home
                let cache = KernelCache(home: home)
                if let kernelPackage {
                    let result = try cache.setup(package: kernelPackage) { message in
                        FileHandle.standardError.write(Data("setup: \(message)\n".utf8))
                    }
                    let kernel = result.kernel
                    print("kernel      \(kernel.release) (\(kernel.package) \(kernel.packageVersion))\(result.downloaded ? "" : ", already cached")")
                    print("vmlinuz     \(kernel.vmlinuz)")
                    print("modules     \(kernel.modules)")
                } else {
                    let built = try KernelBuildCommand.build(home: home, config: config, jobs: jobs)
                    let kernel = built.result.kernel
                    try cache.makeDefault(kernel.release)
                    print("kernel      \(kernel.release) (Coffer's, \(GuestKernelBuild.sourcePackage) \(built.build.sourceVersion))\(built.took)")
                    print("vmlinuz     \(kernel.vmlinuz)")
                    print("modules     none (everything built in)")
                }
                let choice = AcceleratorChoice.choose(.auto, host: HostFacts.probe())
                print("accelerator \(choice.reason)")
                print("qemu        \(VMSupervisor.qemuPath() ?? "not installed: install qemu-system-x86 (scripts/install-deps)")")
            } catch {
                throw CofferError.from(error)
            }
        }
    }
}
