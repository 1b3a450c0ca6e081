import CofferCore
import CofferWire

/// What the host hands the guest kernel for one image, decided in one place so that `coffer run`
/// boots exactly what `coffer tcb` lists: the kernel, the initramfs (from `InitramfsCache`), the
/// kernel arguments after Coffer's fixed ones (the verity root and the exec policy), and the
/// root's disks.
public struct GuestLaunch: Sendable {
    public var kernel: GuestKernel
    /// The cached initramfs QEMU boots, and what it holds.
    public var initramfs: InitramfsCache.Entry
    /// Kernel arguments after Coffer's own (`VMConfiguration.extraKernelArguments`).
    public var kernelArguments: [String]
    public var root: VerityRootDisks
    /// The SHA-256 the launch hashes with (the initramfs inputs and the kernel).
    public var sha256: @Sendable ([UInt8]) -> [UInt8]

    /// Prepares the launch of `root` on `kernel` with the agent binary at `agent` under the
    /// image's `exec` policy (and the broker it pins, if any: `coffer.kbs=`); the initramfs is taken from (or added to) the cache under `home`,
    /// hashed with `sha256` (see InitramfsCache).
    public init(
        home: String, kernel: GuestKernel, agent: String, root: VerityRootDisks, exec: ExecPolicy, brokerPin: BrokerPin? = nil,
        sha256: @escaping @Sendable ([UInt8]) -> [UInt8] = { SHA256Digest.hash($0) }
    ) throws {
        self.kernel = kernel
        self.root = root
        self.sha256 = sha256
        initramfs = try InitramfsCache(home: home, sha256: sha256).initramfs(agent: agent, kernel: kernel)
        kernelArguments = [root.kernelArgument, exec.kernelArgument] + (brokerPin.map { [$0.kernelArgument] } ?? [])
    }

    /// The VM for this launch; the rest are the run's own choices, none of which are measured
    /// except the accelerator and TSC rate (see `QEMUCommand.kernelCommandLine`).
    /// `workload` is bound on the command line (see `WorkloadBinding`): the measurement covers it.
    /// So is `initData`, the digest of a confidential launch's init-data (decision 0022), which
    /// names the volumes whose disks `volumes` lists in the same order.
    public func configuration(
        memoryMiB: Int = 256, cpus: Int = 1, accelerator: Accelerator, tscKilohertz: Int?, agentSocket: String, consoleLog: String,
        workload: WorkloadBinding, initData: MeasuredInitData? = nil, volumes: [String] = []
    ) -> VMConfiguration {
        VMConfiguration(
            kernel: kernel.vmlinuz, initramfs: initramfs.path,
            extraKernelArguments: kernelArguments + [workload.kernelArgument] + (initData.map { [$0.kernelArgument] } ?? []), memoryMiB: memoryMiB,
            cpus: cpus, accelerator: accelerator, tscKilohertz: tscKilohertz, agentSocket: agentSocket,
            consoleLog: consoleLog, readOnlyDisks: root.disks,
            volumeDisks: volumes.enumerated().map { VMConfiguration.Disk(path: $0.element, serial: VMConfiguration.volumeSerial($0.offset)) })
    }

    /// The launch measurement of `vm` (built by `configuration`): kernel, initramfs, command line.
    public func measurement(of vm: VMConfiguration) throws -> LaunchMeasurement {
        try LaunchMeasurement(vm: vm, initramfsDigest: initramfs.measurement.digest, sha256: sha256)
    }
}
