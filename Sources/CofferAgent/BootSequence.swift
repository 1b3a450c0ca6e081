import CofferSys
import CofferWire
import Glibc

/// The steps from an empty initramfs root to a guest with devices, its image's root and its
/// network, each failing with its own `AgentFailure.Reason` so the host can say which one failed.
enum BootSequence {
    /// Where the initramfs lists the kernel modules to load, one absolute path per line, each after
    /// the modules it depends on (written by the launcher's initramfs builder).
    static let moduleList = "/etc/coffer/modules"

    /// The modules for the network device, loaded only when the launch asks for a network.
    static let networkModuleList = "/etc/coffer/modules.net"

    /// What start-up produced: the open channel and what the measured command line says.
    struct Booted {
        var channel: FileDescriptor
        var permission: ExecPolicy
        var workload: WorkloadBinding?
        /// The init-data digest the launch measured (nil: the launch has none).
        var initData: MeasuredInitData?
        /// The broker the image pins (`coffer.kbs=`, decision 0037); nil: the init-data's is trusted.
        var brokerPin: BrokerPin?
        /// The TEE the launch names (`coffer.tee=`); nil: not a confidential launch.
        var tee: GuestEvidence.Format? = nil
        var root: VerityRoot?
        var modulesLoaded: Int
        /// CLOCK_BOOTTIME when the modules were loaded, for the console's timing line.
        var modulesLoadedAt: UInt64
    }

    /// Runs every start-up step in order, up to (not including) `ready`. The channel, once open,
    /// is stored in `channel` so a later failure can still be sent over it.
    static func run(_ system: some BootSystem, channel: inout FileDescriptor?) throws(AgentFailure) -> Booted {
        try step(.baseFileSystems) { try system.mountBaseFileSystems() }
        let modules = try step(.modules) { try system.loadModules() }
        let loadedAt = bootNanoseconds()
        let port = try step(.channel) { try system.openChannel() }
        channel = port
        /// Read and split once, by the kernel's rules; every `coffer.*` parameter comes from here.
        let commandLine = try step(.commandLine) { try KernelCommandLine(bytes: try system.readCommandLine()) }
        let permission = try step(.execPolicy) { try ExecPolicy.parse(commandLine: commandLine) }
        let workload = try step(.workload) { try WorkloadBinding.parse(commandLine: commandLine) }
        let initData = try step(.initData) { try MeasuredInitData.parse(commandLine: commandLine) }
        let brokerPin = try step(.broker) { try BrokerPin.parse(commandLine: commandLine) }
        let tee = try step(.commandLine) { try TEEEvidence.expected(commandLine: commandLine) }
        let root = try step(.root) { try VerityRoot.parse(commandLine: commandLine) }
        /// The network's modules are in the initramfs, so they load before the root switch.
        let network = try step(.network) { try GuestNetwork.requested(commandLine: commandLine) }
        if network { _ = try step(.network) { try system.loadNetworkModules() } }
        if let root {
            try step(.root) { try system.openVerityRoot(root) }
            try step(.overlay) { try system.mountOverlay() }
            try step(.workloadFileSystems) { try system.mountWorkloadFileSystems() }
        }
        try step(.network) { try system.configureNetwork(requested: network) }
        return Booted(
            channel: port, permission: permission, workload: workload, initData: initData, brokerPin: brokerPin, tee: tee, root: root,
            modulesLoaded: modules, modulesLoadedAt: loadedAt)
    }

    /// One step: any error it throws becomes a failure with the step's reason and the error's text.
    static func step<T>(_ reason: AgentFailure.Reason, _ body: () throws -> T) throws(AgentFailure) -> T {
        do {
            return try body()
        } catch {
            throw AgentFailure(reason, "\(error)")
        }
    }

    // MARK: The steps in the guest

    /// /proc first: the Swift runtime and everything after it read /proc/self. The initramfs ships
    /// a `/proc/self/exe` symlink only so the runtime can start; the real /proc mounts over it.
    static func mountPseudoFileSystems() throws(SystemError) {
        let noSuid = UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)
        try Mount.mount("proc", on: "/proc", type: "proc", flags: noSuid)
        try Mount.mount("sysfs", on: "/sys", type: "sysfs", flags: noSuid)
        try Mount.mount("devtmpfs", on: "/dev", type: "devtmpfs", flags: UInt(MS_NOSUID | MS_NOEXEC), data: "mode=0755")
    }

    /// Loads every module listed in `list` in order; returns how many were loaded.
    static func loadModules(list path: String = moduleList) throws(SystemError) -> Int {
        guard let list = try readFile(path) else { return 0 }
        var loaded = 0
        for line in String(decoding: list, as: UTF8.self).split(separator: "\n") where !line.isEmpty {
            if try KernelModule.load(String(line)) { loaded += 1 }
        }
        return loaded
    }
}
