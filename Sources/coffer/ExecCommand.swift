import ArgumentParser
import CofferCore
import CofferVMM
import CofferWire
import Foundation

/// `coffer exec [-i] [-t] VM CMD...`: runs another program in a running VM, as far as the image's
/// measured exec policy allows (the agent decides), and exits with its status.
struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a program in a running VM (if the image's exec policy allows it).",
        discussion: "Exit status: the program's; 126 when it could not be started or the policy refused it; 127 when it was not found.")

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .shortAndLong, help: "Keep standard input open and pass it to the program.") var interactive = false
    @Flag(name: .shortAndLong, help: "Give the program a pseudo-terminal.") var tty = false
    @Option(name: .short, help: "Environment variable K=V (repeatable); added after the workload's.") var env: [String] = []
    @Option(name: .shortAndLong, help: "USER[:GROUP] (name or id). Default: the workload's user.") var user: String?
    @Option(name: .shortAndLong, help: "Working directory. Default: the workload's.") var workdir: String?
    @Argument(help: "The VM's name or id.") var vm: String
    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments.") var command: [String] = []

    func run() throws {
        let status = try reportingErrors { () throws -> Int32 in
            guard !(command.first ?? "").isEmpty else { throw CofferError(.invalidInput, "give the program to run after the VM's name") }
            try WorkloadRequest.checkEnv(env)
            do {
                let entry = try storeOptions.vms.resolve(vm)
                guard entry.state.status == .running else { throw VMMError.wrongState("\(vm) is not running (\(entry.state.status.rawValue))") }
                let workload = entry.spec.workload
                let cwd = workdir ?? workload.cwd
                guard cwd.hasPrefix("/") else { throw CofferError(.invalidInput, "-w \(cwd): the working directory must be absolute") }
                let size = tty ? RawTerminal.size() : nil
                let id = ProcessID(2)
                let client = try ControlClient(directory: entry.directory)
                try client.send(StartProcess(
                    id: id, argv: command, env: WorkloadRequest.terminalEnv(workload.env + env, tty: tty), cwd: cwd,
                    user: try user.map { try WorkloadRequest.checkUser($0) } ?? workload.user, tty: tty, stdin: interactive,
                    rows: size?.rows ?? 24, cols: size?.cols ?? 80))
                do {
                    return try Attachment(client: client, id: id, stdin: interactive, tty: tty).run()
                } catch Attachment.End.failure(let failure) {
                    FileHandle.standardError.write(Data("coffer: \(VMMError.agentFailure(failure).description)\n".utf8))
                    switch failure.reason {
                    case .start where failure.message.contains("not found"): return 127
                    case .start, .denied, .integrity: return 126
                    default: return 1
                    }
                }
            } catch let error as VMMError {
                throw error.cofferError
            }
        }
        throw ExitCode(status)
    }
}
