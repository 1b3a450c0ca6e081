import ArgumentParser
import CofferCore
import CofferVMM
import CofferWire
import Foundation

/// `coffer logs [-f] [--console] VM`: the workload's output as it was written (stdout to stdout,
/// stderr to stderr), or the guest's serial console.
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a VM's program output (or its console).")

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .shortAndLong, help: "Follow: keep printing until the VM ends.") var follow = false
    @Flag(help: "The guest's serial console (kernel and agent messages) instead of the program's output.") var console = false
    @Argument(help: "The VM's name or id.") var vm: String

    func run() throws {
        try reportingErrors {
            do {
                let entry = try storeOptions.vms.resolve(vm)
                let path = console ? entry.spec.vm.consoleLog : entry.directory.outputLog
                let file = open(path, O_RDONLY | O_CLOEXEC)
                guard file >= 0 else {
                    if errno == ENOENT { return }
                    throw VMMError.file(path: path, reason: String(cString: strerror(errno)))
                }
                defer { close(file) }
                var decoder = FrameDecoder()
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    // Sound: reads at most buffer.count bytes into memory `buffer` owns.
                    let count = buffer.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
                    if count > 0 {
                        let bytes = Array(buffer[0..<count])
                        if console {
                            FileHandle.standardOutput.write(Data(bytes))
                        } else {
                            decoder.append(bytes)
                            while let frame = try decoder.next() {
                                let output = try ProcessOutput(frame)
                                (output.stream == .stdout ? FileHandle.standardOutput : FileHandle.standardError).write(Data(output.bytes))
                            }
                        }
                        continue
                    }
                    // At the end of what is written: done, unless following a VM that still runs.
                    guard follow, (try? storeOptions.vms.resolve(entry.spec.id).state.status) == .running else { return }
                    usleep(100_000)
                }
            } catch let error as VMMError {
                throw error.cofferError
            } catch let error as WireError {
                throw CofferError(.integrity, "the VM's output log is damaged: \(error)")
            }
        }
    }
}
