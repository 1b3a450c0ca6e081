/// Everything that decides a VM's QEMU command line. Plain data: the command line is a pure
/// function of it (`QEMUCommand`), so it can be golden-tested and, later, measured.
public struct VMConfiguration: Sendable, Equatable {
    /// The bzImage booted directly (no firmware).
    public var kernel: String
    /// The initramfs Coffer generated for this VM.
    public var initramfs: String
    /// Kernel arguments after Coffer's own (`console=ttyS0 ...`), e.g. the verity root hash.
    public var extraKernelArguments: [String]
    public var memoryMiB: Int
    public var cpus: Int
    public var accelerator: Accelerator
    /// With TCG, the host's TSC rate (see `QEMUCommand.kernelCommandLine`).
    public var tscKilohertz: Int?
    /// The Unix socket the launcher listens on; QEMU connects the agent's port to it.
    public var agentSocket: String
    /// Where the guest's serial console is written.
    public var consoleLog: String

    public init(
        kernel: String, initramfs: String, extraKernelArguments: [String] = [], memoryMiB: Int = 256, cpus: Int = 1,
        accelerator: Accelerator, tscKilohertz: Int? = nil, agentSocket: String, consoleLog: String
    ) {
        self.kernel = kernel
        self.initramfs = initramfs
        self.extraKernelArguments = extraKernelArguments
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.accelerator = accelerator
        self.tscKilohertz = tscKilohertz
        self.agentSocket = agentSocket
        self.consoleLog = consoleLog
    }
}
