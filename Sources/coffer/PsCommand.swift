import ArgumentParser
import CofferCore
import CofferVMM
import Foundation

/// `coffer ps [-a] [--format json]`: the VMs and their real state (a VM whose monitor or QEMU
/// died is `dead`, with why).
struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List running VMs (-a: all).")

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .shortAndLong, help: "Show VMs that are not running too.") var all = false
    @Option(help: "table or json.") var format = "table"
    @Flag(name: .shortAndLong, help: "Only the ids.") var quiet = false

    struct Row: Encodable {
        var id: String
        var name: String
        var image: String
        var imageID: String
        var command: [String]
        var status: String
        var created: Double
        var startedAt: Double?
        var finishedAt: Double?
        var exitCode: Int32?
        var error: String?
        var monitorPID: Int32?
        var qemuPID: Int32?
        var launchMeasurement: String
    }

    func run() throws {
        try reportingErrors {
            guard format == "table" || format == "json" else { throw CofferError(.invalidInput, "--format must be table or json, not \(format)") }
            let entries = storeOptions.vms.list().filter { all || $0.state.status == .running }
            if quiet {
                for entry in entries { print(entry.spec.shortID) }
                return
            }
            if format == "json" {
                try printJSON(entries.map { entry in
                    Row(
                        id: entry.spec.id, name: entry.spec.name, image: entry.spec.image, imageID: entry.spec.imageID,
                        command: entry.spec.workload.argv, status: entry.state.status.rawValue, created: entry.spec.created,
                        startedAt: entry.state.startedAt, finishedAt: entry.state.finishedAt, exitCode: entry.state.exitCode,
                        error: entry.state.error, monitorPID: entry.state.monitorPID, qemuPID: entry.state.qemuPID,
                        launchMeasurement: entry.spec.launchMeasurement)
                })
                return
            }
            let now = Date().timeIntervalSince1970
            var lines = [["VM ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAME"]]
            for entry in entries {
                let command = entry.spec.workload.argv.joined(separator: " ")
                lines.append([
                    entry.spec.shortID, entry.spec.image, "\"\(command.count > 20 ? command.prefix(19) + "…" : Substring(command))\"",
                    Self.ago(now - entry.spec.created) + " ago", Self.status(entry.state, now: now), entry.spec.name,
                ])
            }
            let widths = (0..<6).map { column in lines.map { $0[column].count }.max() ?? 0 }
            for line in lines {
                print(line.enumerated().map { index, cell in index == 5 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0) }.joined())
            }
        }
    }

    static func status(_ state: VMState, now: Double) -> String {
        switch state.status {
        case .created: return "Created"
        case .running: return state.workloadStartedAt == nil ? "Booting" : "Up \(ago(now - (state.workloadStartedAt ?? now)))"
        case .exited: return "Exited (\(state.exitCode ?? -1)) \(ago(now - (state.finishedAt ?? now))) ago"
        case .dead: return "Dead: " + (state.error?.split(separator: "\n").first.map(String.init) ?? "unknown")
        }
    }

    static func ago(_ seconds: Double) -> String {
        let value = max(0, Int(seconds))
        if value < 60 { return "\(value) second\(value == 1 ? "" : "s")" }
        if value < 3600 { return "\(value / 60) minute\(value / 60 == 1 ? "" : "s")" }
        if value < 86400 { return "\(value / 3600) hour\(value / 3600 == 1 ? "" : "s")" }
        return "\(value / 86400) day\(value / 86400 == 1 ? "" : "s")"
    }
}
