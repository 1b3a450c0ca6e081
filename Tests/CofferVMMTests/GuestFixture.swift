import CofferTestSupport
import CofferVMM
import Foundation

/// The real guest kernel and agent the VM tests boot.
///
/// The kernel is Debian's cloud kernel with its modules (these tests load modules), downloaded on
/// first use into a cache beside the build (`VMHomes.debian`), as `coffer setup --kernel-package` would; the agent is the static binary `make agent` links (`make test` does it
/// first). Neither is optional: without them the tests fail and say what to run.
final class GuestFixture: @unchecked Sendable {
    static let shared = GuestFixture()

    let home = VMHomes.debian
    let agent = "\(Repository.root())/.build-agent/release/coffer-agent"
    private let lock = NSLock()
    private var cached: GuestKernel?

    /// The cloud kernel: the cached default, else fetched (concurrent tests wait for one download).
    func kernel() throws -> GuestKernel {
        try lock.withLock {
            if let cached { return cached }
            let cache = KernelCache(home: home)
            let kernel = try cache.defaultKernel() ?? cache.setup(package: VMHomes.debianPackage).kernel
            cached = kernel
            return kernel
        }
    }

    func agentBinary() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: agent) else {
            throw TestFailure("the static guest agent \(agent) is missing: run `make agent` (make test does)")
        }
        return agent
    }

    /// A VM configuration whose files live in `directory`.
    func configuration(kernel: GuestKernel, initramfs: String, in directory: TemporaryDirectory) -> VMConfiguration {
        let choice = AcceleratorChoice.choose(.auto, host: HostFacts.probe())
        return VMConfiguration(
            kernel: kernel.vmlinuz, initramfs: initramfs, accelerator: choice.accelerator,
            tscKilohertz: HostFacts.probe().tscKilohertz, agentSocket: directory.file("agent.sock"),
            consoleLog: directory.file("console.log"))
    }
}
