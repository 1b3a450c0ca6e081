import CofferCore

/// Guest → host (and launcher → client): something asked for could not be done.
///
/// Payload: `id u32 | reason u8 | message (UTF-8, the rest)`. `id` 0 is the agent itself (the VM
/// is over); another id is one process that could not be started, and the VM goes on.
public struct AgentFailure: WireMessage, Error, CustomStringConvertible {
    public static let kind = FrameKind.failure

    /// Why. Codes 1–7 keep the meaning they had in protocol version 2 (`root` is narrower: it
    /// no longer covers the steps 8–15 name); 8–15 are the agent's start-up steps, added in
    /// version 3, one code per step so the host can say which one failed; 17–19 are provisioning's
    /// steps, added in version 4.
    public enum Reason: UInt8, Sendable, CaseIterable {
        /// The dm-verity root could not be opened: its `coffer.verity` parameter, the disks, the
        /// verity device, or the EROFS on it.
        case root = 1
        /// The process could not be started (not found, bad user, exec failed).
        case start = 2
        /// A block of the root file system did not match the measured root hash.
        case integrity = 3
        /// The peer broke the protocol.
        case protocolViolation = 4
        /// The image's measured exec policy does not allow this process.
        case denied = 5
        /// The launcher's side: the VM did not boot, QEMU died, the VM is not running.
        case vm = 6
        /// The guest's network (`coffer.net`, its modules, loopback, eth0, /etc/resolv.conf) could
        /// not be set up.
        case network = 7
        /// /proc, /sys or /dev could not be mounted.
        case baseFileSystems = 8
        /// A kernel module of the initramfs could not be loaded.
        case modules = 9
        /// The agent's virtio-serial port could not be opened or written (such a failure reaches
        /// only the console, which the launcher quotes).
        case channel = 10
        /// /proc/cmdline could not be read or split.
        case commandLine = 11
        /// The measured exec policy (`coffer.exec`) does not parse.
        case execPolicy = 12
        /// The measured workload binding (`coffer.workload`) does not parse.
        case workload = 13
        /// The writable tmpfs overlay over the image could not be mounted or entered.
        case overlay = 14
        /// /tmp, /dev/pts or /dev/shm could not be mounted in the new root.
        case workloadFileSystems = 15
        /// The init-data the host handed over is not the measured one (`coffer.initdata`), or
        /// the measured digest does not parse, or the host sent none before the workload.
        case initData = 16
        /// Provisioning (decision 0022, protocol version 4): the broker could not be reached
        /// through the host's relay, refused the attestation or a resource (the message carries its
        /// reason: claim, expected, actual), or an answer did not verify as the broker's.
        case broker = 17
        /// A secret the broker released could not be placed under /run/secrets.
        case secrets = 18
        /// An encrypted volume could not be found, opened, formatted or mounted.
        case volume = 19

        /// The name `coffer ps` and the `failure` text show.
        public var name: String {
            switch self {
            case .root: "root"
            case .start: "start"
            case .integrity: "integrity"
            case .protocolViolation: "protocol"
            case .denied: "denied"
            case .vm: "vm"
            case .network: "network"
            case .baseFileSystems: "base-filesystems"
            case .modules: "modules"
            case .channel: "channel"
            case .commandLine: "cmdline"
            case .execPolicy: "exec-policy"
            case .workload: "workload"
            case .overlay: "overlay"
            case .workloadFileSystems: "workload-filesystems"
            case .initData: "init-data"
            case .broker: "broker"
            case .secrets: "secrets"
            case .volume: "volume"
            }
        }

        /// For a start-up step, what the agent was doing, as a phrase ("opening the dm-verity
        /// root"); nil for the reasons that are not start-up steps.
        public var startupStep: String? {
            switch self {
            case .baseFileSystems: "mounting /proc, /sys and /dev"
            case .modules: "loading the kernel modules"
            case .channel: "opening the agent channel"
            case .commandLine: "reading the kernel command line"
            case .execPolicy: "reading the measured exec policy"
            case .workload: "reading the measured workload"
            case .root: "opening the dm-verity root"
            case .overlay: "mounting the writable overlay"
            case .workloadFileSystems: "mounting /tmp, /dev/pts and /dev/shm"
            case .initData: "checking the launch's init-data"
            case .network: "setting up the network"
            case .broker: "attesting to the key broker"
            case .secrets: "placing the secrets"
            case .volume: "opening the encrypted volumes"
            case .start, .integrity, .protocolViolation, .denied, .vm: nil
            }
        }
    }

    public var id: ProcessID
    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String, id: ProcessID = .agent) {
        self.id = id
        self.reason = reason
        self.message = message
    }

    public var description: String { message }

    public func write(to writer: inout ByteWriter) {
        writer.write(id)
        writer.writeUInt8(reason.rawValue)
        // The message is the sender's own text; keep it far below the frame limit.
        writer.write(Array(message.utf8.prefix(4096)))
    }

    public init(reading reader: inout ByteReader) throws {
        id = try reader.readProcessID()
        let value = try reader.readUInt8("reason")
        guard let reason = Reason(rawValue: value) else { throw FieldError("unknown reason \(value)") }
        self.reason = reason
        message = String(decoding: reader.readRest(), as: UTF8.self)
    }
}
