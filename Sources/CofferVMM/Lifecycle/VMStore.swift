import CofferCore
import Foundation

/// The VMs of one Coffer home: `$COFFER_HOME/vms/<id>/`, found by id, id prefix or name.
public struct VMStore: Sendable {
    public let root: String

    public init(home: String) { root = "\(home)/vms" }

    /// One VM with what `ps` shows about it.
    public struct Entry: Sendable {
        public var directory: VMDirectory
        public var spec: VMSpec
        /// The stored state, corrected by asking the kernel whether its monitor still runs.
        public var state: VMState
    }

    /// Creates the directory for a new VM under a lock, so two concurrent `run --name X` cannot
    /// both take the name. The spec is written last: a directory without one is not a VM yet.
    public func create(_ makeSpec: (_ id: String, _ directory: VMDirectory) throws -> VMSpec) throws -> (VMSpec, VMDirectory) {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let lock = open("\(root)/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw VMMError.file(path: "\(root)/.lock", reason: String(cString: strerror(errno))) }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        var random = [UInt8](repeating: 0, count: 16)
        for index in random.indices { random[index] = UInt8.random(in: 0...255) }
        let id = Hex.encode(random)
        let directory = VMDirectory(path: "\(root)/\(id)")
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        do {
            let spec = try makeSpec(id, directory)
            if list().contains(where: { $0.spec.name == spec.name }) {
                throw VMMError.invalidConfiguration("the name \(spec.name) is already used by another VM: remove it with `coffer rm \(spec.name)` or choose another --name")
            }
            try directory.write(VMState(status: .created))
            try directory.write(spec)
            return (spec, directory)
        } catch {
            try? FileManager.default.removeItem(atPath: directory.path)
            throw error
        }
    }

    /// Every VM, oldest first. A directory whose files do not parse is skipped (it is being
    /// created or removed).
    public func list() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { !$0.hasPrefix(".") }.compactMap { name in
            let directory = VMDirectory(path: "\(root)/\(name)")
            guard let spec = try? directory.readSpec(), let state = try? directory.readState() else { return nil }
            return Entry(directory: directory, spec: spec, state: Self.observed(state, directory: directory))
        }.sorted { $0.spec.created < $1.spec.created }
    }

    /// The VM named `reference`: a name, a full id or a unique id prefix.
    public func resolve(_ reference: String) throws(VMMError) -> Entry {
        let all = list()
        if let named = all.first(where: { $0.spec.name == reference || $0.spec.id == reference }) { return named }
        let matches = all.filter { $0.spec.id.hasPrefix(reference) }
        guard !reference.isEmpty, let match = matches.first else { throw .noSuchVM(reference) }
        guard matches.count == 1 else { throw .invalidConfiguration("\(reference) matches \(matches.count) VMs: give more of the id") }
        return match
    }

    public func remove(_ entry: Entry) throws(VMMError) {
        do {
            try FileManager.default.removeItem(atPath: entry.directory.path)
        } catch {
            throw .file(path: entry.directory.path, reason: "cannot be removed: \(error.localizedDescription)")
        }
    }

    /// A `running` state whose monitor is gone is reported `dead`: the stored state is what the
    /// monitor last wrote, and a monitor killed with SIGKILL writes nothing.
    static func observed(_ state: VMState, directory: VMDirectory) -> VMState {
        guard state.status == .running, let pid = state.monitorPID else { return state }
        if MonitorProcess.isAlive(pid: pid, directory: directory) { return state }
        var dead = state
        dead.status = .dead
        dead.error = "its monitor (pid \(pid)) is gone; the VM is not running"
        return dead
    }
}

/// The `coffer _monitor` process that owns a VM's QEMU.
public enum MonitorProcess {
    /// Whether `pid` runs and is the monitor of `directory` (its command line names the directory),
    /// so a reused pid is not mistaken for it.
    public static func isAlive(pid: Int32, directory: VMDirectory) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat").map({ String(decoding: $0, as: UTF8.self) }),
            let state = stat.split(separator: ")").last?.split(separator: " ").first, state == "Z"
        {
            return false
        }
        return arguments.contains(directory.path)
    }
}
