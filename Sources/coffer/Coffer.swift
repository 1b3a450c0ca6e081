import ArgumentParser
import CofferImage
import CofferVerifier

@main
struct Coffer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "Build measured images and run them in confidential micro-VMs.",
        subcommands: []
    )
}
