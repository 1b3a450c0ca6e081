import CofferSys
import CofferWire

/// What `BootSequence` does to the guest, one method per start-up step: the kernel's interfaces in
/// the VM (`GuestBootSystem`), a fake that fails a chosen step in tests.
protocol BootSystem {
    func mountBaseFileSystems() throws
    func loadModules() throws -> Int
    func openChannel() throws -> FileDescriptor
    func readCommandLine() throws -> [UInt8]
    func loadNetworkModules() throws -> Int
    /// The verity device over the image's disks, and the image's EROFS mounted read-only from it.
    func openVerityRoot(_ root: VerityRoot) throws
    /// The tmpfs overlay over the image, entered as the new root.
    func mountOverlay() throws
    func mountWorkloadFileSystems() throws
    /// Loopback always; eth0 and the resolver when `requested`.
    func configureNetwork(requested: Bool) throws
}

/// The real steps, in the VM.
struct GuestBootSystem: BootSystem {
    func mountBaseFileSystems() throws { try BootSequence.mountPseudoFileSystems() }
    func loadModules() throws -> Int { try BootSequence.loadModules() }
    func openChannel() throws -> FileDescriptor { try AgentPort.open(named: Agent.portName) }
    func readCommandLine() throws -> [UInt8] { try readFile("/proc/cmdline") ?? [] }
    func loadNetworkModules() throws -> Int { try BootSequence.loadModules(list: BootSequence.networkModuleList) }
    func openVerityRoot(_ root: VerityRoot) throws { try root.open() }
    func mountOverlay() throws { try VerityRoot.mountOverlayAndEnter() }
    func mountWorkloadFileSystems() throws { try VerityRoot.mountWorkloadFileSystems() }
    func configureNetwork(requested: Bool) throws { try GuestNetwork.configure(requested: requested) }
}
