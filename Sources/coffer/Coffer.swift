import ArgumentParser
import CofferCore
import CofferImage
import Foundation

@main
struct Coffer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "Build measured images and run them in confidential micro-VMs.",
        version: CofferVersion.string,
        subcommands: [
            BuildCommand.self, ImagesCommand.self, InspectCommand.self, RemoveImageCommand.self,
            VerifyCommand.self, KeyCommand.self, AttestCommand.self, SetupCommand.self, RunCommand.self,
            StartCommand.self, ExecCommand.self, PsCommand.self, LogsCommand.self, StopCommand.self, KillCommand.self,
            RemoveVMCommand.self, TCBCommand.self, MeasureCommand.self, MonitorCommand.self, KBSCommand.self, VolumeCommand.self, KernelCommand.self,
            SGXCommand.self,
        ]
    )
}

/// The one place errors meet the user: a single line, `coffer: <message>`, and exit status 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CofferError {
        FileHandle.standardError.write(Data("coffer: \(error)\n".utf8))
        throw ExitCode(error.code == .notFound ? 2 : 1)
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("coffer: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// Options every store-using command shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("home"), help: "Image store (default $COFFER_HOME, /var/lib/coffer for root, else ~/.local/share/coffer).")
    var home: String?

    var store: ImageStore { ImageStore(home: home ?? ImageStore.defaultHome()) }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}
