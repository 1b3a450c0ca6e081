/// Everything that decides a VM's QEMU command line. Plain data: the command line is a pure
/// function of it (`QEMUCommand`), so it can be golden-tested and, later, measured.
public struct VMConfiguration: Sendable, Equatable, Codable {
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
    /// Read-only virtio-blk disks. The guest finds each by its serial number
    /// (`/sys/block/vdX/serial`), not by its order.
    public var readOnlyDisks: [Disk]
    /// Published ports. None: the VM has no network device at all.
    public var ports: [PortMapping] = []
    /// Encrypted volumes' disks, attached read-write after the read-only ones, the n-th with serial
    /// `coffer-vol<n>` (`volumeSerial`), n being the volume's index in the measured init-data. Not
    /// measured themselves: the guest judges each disk by its own header and opens it only with
    /// the key the broker releases for that volume (decision 0023).
    public var volumeDisks: [Disk] = []
    /// The machine shape; nil is `.microvm` (and every spec written before the PCI shapes).
    public var machine: Machine?

    /// The machine QEMU emulates.
    public var shape: Machine { machine ?? .microvm }

    /// The serial of the volume at `index` in the launch configuration.
    public static func volumeSerial(_ index: Int) -> String { "coffer-vol\(index)" }

    public struct Disk: Sendable, Equatable, Codable {
        public var path: String
        /// At most 20 bytes (virtio-blk's serial field), letters, digits and '-'.
        public var serial: String
        public init(path: String, serial: String) {
            self.path = path
            self.serial = serial
        }
    }

    public init(
        kernel: String, initramfs: String, extraKernelArguments: [String] = [], memoryMiB: Int = 256, cpus: Int = 1,
        accelerator: Accelerator, tscKilohertz: Int? = nil, agentSocket: String, consoleLog: String, readOnlyDisks: [Disk] = [],
        volumeDisks: [Disk] = []
    ) {
        self.readOnlyDisks = readOnlyDisks
        self.volumeDisks = volumeDisks
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
