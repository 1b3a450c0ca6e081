import ArgumentParser
import CofferCore
import CofferVMM
import CofferWire
import Foundation

/// The VMs of the store `--home` names.
extension StoreOptions {
    var vms: VMStore { VMStore(home: store.home) }
}

/// `coffer _monitor [--attach] DIR`: the process that owns a VM (started by `run` and `start`).
struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_monitor", abstract: "Own one VM's QEMU until it ends (started by run/start).", shouldDisplay: false)

    @Flag(help: "Start the workload only once a client attached (or 10 s after the guest is up).") var attach = false
    @Argument(help: "The VM's directory.") var directory: String

    func run() throws {
        try reportingErrors {
            let vmDirectory = VMDirectory(path: directory)
            // The VM's home: $COFFER_HOME/vms/<id> → $COFFER_HOME.
            let home = URL(fileURLWithPath: directory).deletingLastPathComponent().deletingLastPathComponent().path
            let monitor = try VMMonitor(directory: vmDirectory, waitForAttach: attach, services: HostLaunchServices(home: home))
            monitor.run()
        }
    }
}

/// `coffer start [-a] VM`: boots a VM that is not running again, with the spec it was created with.
struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Boot a stopped VM again (same image, command and launch measurement).")

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .shortAndLong, help: "Attach: relay the program's output and exit with its status.") var attach = false
    @Flag(name: .shortAndLong, help: "With -a, pass standard input to the program (if it was created with -i).") var interactive = false
    @Argument(help: "The VM's name or id.") var vm: String

    func run() throws {
        let status = try reportingErrors { () throws -> Int32 in
            do {
                let entry = try storeOptions.vms.resolve(vm)
                guard entry.state.status != .running else { throw VMMError.wrongState("\(vm) is already running") }
                let monitor = try MonitorLauncher.spawn(entry.directory, attach: attach)
                guard attach else {
                    try MonitorLauncher.awaitWorkload(entry.directory, monitor: monitor)
                    print(entry.spec.name)
                    return 0
                }
                return try MonitorLauncher.attachToWorkload(
                    entry.directory, monitor: monitor, stdin: interactive && entry.spec.workload.stdin, tty: entry.spec.workload.tty)
            } catch let error as VMMError {
                throw error.cofferError
            }
        }
        throw ExitCode(status)
    }
}

/// `coffer stop [-t SECONDS] VM...`: SIGTERM to the workload, the VM killed after the grace period.
struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop VMs: SIGTERM to the program, then kill the VM after the grace period.")

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .shortAndLong, help: "Seconds to wait after SIGTERM before killing the VM.") var time: UInt32 = 10
    @Argument(help: "Names or ids.") var vms: [String]

    func run() throws {
        try reportingErrors {
            for reference in vms {
                try VMControl.request(reference, store: storeOptions.vms) { client in
                    try client.send(StopRequest(seconds: time))
                }
                print(reference)
            }
        }
    }
}

/// `coffer kill [-s SIGNAL] VM...`: a signal to the workload (SIGKILL by default, which ends the
/// VM even when the guest no longer answers).
struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to VMs' programs (default KILL).")

    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .shortAndLong, help: "Signal name or number (KILL, TERM, HUP, INT, USR1, 9, ...).") var signal = "KILL"
    @Argument(help: "Names or ids.") var vms: [String]

    func run() throws {
        try reportingErrors {
            guard let number = SignalName.parse(signal) else {
                throw CofferError(.invalidInput, "-s \(signal): not a signal name or a number between 1 and 64")
            }
            for reference in vms {
                try VMControl.request(reference, store: storeOptions.vms, waitForEnd: number == SIGKILL) { client in
                    try client.send(SignalProcess(.main, signal: UInt8(number)))
                }
                print(reference)
            }
        }
    }
}

/// `coffer rm [-f] VM...`: removes VMs that are not running (with -f, kills running ones first).
struct RemoveVMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove VMs (with -f, kill running ones first).")

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .shortAndLong, help: "Kill a running VM before removing it.") var force = false
    @Argument(help: "Names or ids.") var vms: [String]

    func run() throws {
        try reportingErrors {
            for reference in vms {
                do {
                    let entry = try storeOptions.vms.resolve(reference)
                    if entry.state.status == .running {
                        guard force, let pid = entry.state.monitorPID else {
                            throw VMMError.wrongState("\(reference) is running: stop it first, or use `coffer rm -f`")
                        }
                        // QEMU is tied to its monitor (PR_SET_PDEATHSIG): killing the monitor kills the VM.
                        kill(pid, SIGKILL)
                        try VMControl.awaitGone(entry)
                    }
                    try storeOptions.vms.remove(entry)
                    print(reference)
                } catch let error as VMMError {
                    throw error.cofferError
                }
            }
        }
    }
}

/// What the lifecycle commands share: reaching a running VM's monitor and waiting for its end.
enum VMControl {
    static func request(_ reference: String, store: VMStore, waitForEnd: Bool = true, _ body: (ControlClient) throws -> Void) throws {
        do {
            let entry = try store.resolve(reference)
            guard entry.state.status == .running else {
                throw VMMError.wrongState("\(reference) is not running (\(entry.state.status.rawValue))")
            }
            let client = try ControlClient(directory: entry.directory)
            try body(client)
            if waitForEnd { try awaitGone(entry) }
        } catch let error as VMMError {
            throw error.cofferError
        }
    }

    /// Waits until the VM's monitor has ended (it kills QEMU before it ends).
    static func awaitGone(_ entry: VMStore.Entry) throws {
        guard let pid = entry.state.monitorPID else { return }
        while MonitorProcess.isAlive(pid: pid, directory: entry.directory) { usleep(20_000) }
    }
}

/// Signal names as `kill -l` spells them, with or without `SIG`, or numbers.
enum SignalName {
    static let names: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "KILL": SIGKILL, "USR1": SIGUSR1, "USR2": SIGUSR2, "TERM": SIGTERM,
        "CONT": SIGCONT, "STOP": SIGSTOP, "WINCH": SIGWINCH, "ALRM": SIGALRM, "PIPE": SIGPIPE,
    ]

    static func parse(_ text: String) -> Int32? {
        if let number = Int32(text) { return (1...64).contains(number) ? number : nil }
        let upper = text.uppercased()
        return names[upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper]
    }
}
