import CofferCore
import CofferWire
import Foundation

/// What a VM was created with: everything `start` needs to boot it again, fixed at creation.
/// Stored as `vm.json` in the VM's directory.
public struct VMSpec: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// The image as the user named it, and the id it resolved to.
    public var image: String
    public var imageID: String
    /// Seconds since 1970.
    public var created: Double
    public var vm: VMConfiguration
    public var workload: Workload
    public var hostname: String
    /// Seconds the guest has to check in.
    public var bootDeadline: Double
    /// `sha256:` digest of the launch (kernel, initramfs, command line).
    public var launchMeasurement: String
    /// Removed when the workload ends (`run --rm`).
    public var autoRemove: Bool
    /// The launch's init-data document (decision 0022), handed to the guest before `start`; its
    /// digest is on the measured command line. Nil for a launch without one.
    public var initData: String?
    /// The TLS certificate (PEM) the host's relay trusts for the broker named in the init-data;
    /// nil: the system's roots. The host's trust only: the guest checks the broker's signatures.
    public var brokerCertificate: String?
    /// The broker's base URL the relay sends the guest's requests to (as the init-data names it).
    public var brokerURL: String?
    /// The QEMU binary the VM runs on (`run --qemu`); nil: qemu-system-x86_64 on PATH.
    public var qemu: String?

    /// The workload's process, as `StartProcess` without the channel's process id.
    public struct Workload: Codable, Sendable, Equatable {
        public var argv: [String]
        public var env: [String]
        public var cwd: String
        public var user: String
        public var tty: Bool
        public var stdin: Bool

        public init(argv: [String], env: [String], cwd: String, user: String, tty: Bool, stdin: Bool) {
            self.argv = argv
            self.env = env
            self.cwd = cwd
            self.user = user
            self.tty = tty
            self.stdin = stdin
        }

        /// What the launch binds on the measured command line: the binding of the very request
        /// the monitor sends (`start`), so the two cannot drift apart.
        public var binding: WorkloadBinding { WorkloadBinding(start()) }

        public func start(rows: UInt16 = 24, cols: UInt16 = 80) -> StartProcess {
            StartProcess(id: .main, argv: argv, env: env, cwd: cwd, user: user, tty: tty, stdin: stdin, rows: rows, cols: cols)
        }
    }

    public init(
        id: String, name: String, image: String, imageID: String, created: Double, vm: VMConfiguration, workload: Workload,
        hostname: String, bootDeadline: Double, launchMeasurement: String, autoRemove: Bool, initData: String? = nil,
        brokerCertificate: String? = nil, brokerURL: String? = nil, qemu: String? = nil
    ) {
        self.qemu = qemu
        self.id = id
        self.name = name
        self.image = image
        self.imageID = imageID
        self.created = created
        self.vm = vm
        self.workload = workload
        self.hostname = hostname
        self.bootDeadline = bootDeadline
        self.launchMeasurement = launchMeasurement
        self.autoRemove = autoRemove
        self.initData = initData
        self.brokerCertificate = brokerCertificate
        self.brokerURL = brokerURL
    }

    /// The first 12 hex digits, as `ps` shows it.
    public var shortID: String { String(id.prefix(12)) }
}

/// Where a VM is in its life, as its monitor last wrote it. Stored as `state.json`.
public struct VMState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Created, never started.
        case created
        /// Its monitor runs QEMU (booting or serving the workload).
        case running
        /// The workload ended (or the VM was stopped); `exitCode` says how.
        case exited
        /// The VM ended without the workload's exit: it failed to boot, QEMU died, the guest
        /// reported an error, or its monitor was killed. `error` says which.
        case dead
    }

    public var status: Status
    public var monitorPID: Int32?
    public var qemuPID: Int32?
    public var startedAt: Double?
    /// When the agent reported the workload started, and its pid in the guest.
    public var workloadStartedAt: Double?
    public var workloadPID: UInt32?
    public var finishedAt: Double?
    public var exitCode: Int32?
    public var error: String?
    /// How many times the VM was booted (`run`, then each `start`).
    public var launches: Int?

    public init(status: Status) { self.status = status }
}

/// A VM's directory, `$COFFER_HOME/vms/<id>/`: its spec and state, the initramfs, the sockets,
/// the console, QEMU's and the monitor's logs, and the workload's output.
public struct VMDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func file(_ name: String) -> String { "\(path)/\(name)" }
    public var specPath: String { file("vm.json") }
    public var statePath: String { file("state.json") }
    /// The control socket the monitor serves clients on.
    public var controlSocket: String { file("control.sock") }
    /// The workload's output as `stdout`/`stderr` frames, in order.
    public var outputLog: String { file("output.log") }
    public var monitorLog: String { file("monitor.log") }

    public func readSpec() throws(VMMError) -> VMSpec { try Self.read(VMSpec.self, from: specPath) }
    public func readState() throws(VMMError) -> VMState { try Self.read(VMState.self, from: statePath) }

    /// Written to a temporary file and renamed over the old one: a reader sees the old or the new
    /// state, never half of one.
    public func write(_ spec: VMSpec) throws(VMMError) { try Self.write(spec, to: specPath) }
    public func write(_ state: VMState) throws(VMMError) { try Self.write(state, to: statePath) }

    static func read<T: Decodable>(_ type: T.Type, from path: String) throws(VMMError) -> T {
        guard let data = FileManager.default.contents(atPath: path) else { throw .file(path: path, reason: "cannot be read") }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .file(path: path, reason: "does not parse: \(error)")
        }
    }

    static func write<T: Encodable>(_ value: T, to path: String) throws(VMMError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .file(path: path, reason: "cannot be written: \(error.localizedDescription)")
        }
    }
}
