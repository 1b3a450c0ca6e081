import ArgumentParser
import CofferCore
import CofferVMM
import Foundation

/// `coffer kernel build`: Coffer's own guest kernel from Debian's kernel source package.
struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Coffer's own guest kernel.",
        subcommands: [KernelBuildCommand.self])
}

struct KernelBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build Coffer's guest kernel from linux-source-6.12 and its configuration fragment (cached, reproducible).",
        discussion: """
            The fragment (everything built in, no modules) goes over `make tinyconfig`; the build's \
            timestamp, user, host and version are pinned, so the same source package version and \
            fragment give the same bzImage bytes. The result is cached in \
            $COFFER_HOME/kernel/coffer-<version>-<key>/ by source version and fragment digest, and a \
            second build of the same key does nothing. Boot it with `coffer run --kernel <vmlinuz>`. \
            make's output is shown on a terminal; otherwise only the result is printed.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The configuration fragment (default: $COFFER_KERNEL_CONFIG, else Sources/CofferVMM/Kernel/coffer-guest.config of the checkout above this executable).")
    var config: String?
    @Option(help: "Parallel make jobs (default: the number of CPUs).") var jobs: Int?

    func run() throws {
        try reportingErrors {
            do {
                let built = try Self.build(home: storeOptions.store.home, config: config, jobs: jobs)
                let bytes = try Data(contentsOf: URL(fileURLWithPath: built.result.kernel.vmlinuz))
                let config = (try? String(contentsOfFile: "\(built.result.kernel.directory)/config", encoding: .utf8)) ?? ""
                let enabled = GuestKernelBuild.options(config).values.filter { $0 == "y" }.count
                print("kernel   \(built.result.kernel.release) (\(GuestKernelBuild.sourcePackage) \(built.build.sourceVersion))\(built.took)")
                print("vmlinuz  \(built.result.kernel.vmlinuz)")
                print("size     \(bytes.count) bytes, \(enabled) options enabled")
                print("sha256   \(Hex.encode(SHA256Digest.hash(bytes)))")
                print("key      \(built.build.key)")
            } catch let error as VMMError {
                throw error.cofferError
            }
        }
    }

    /// Builds (or finds cached) Coffer's kernel in `home`'s cache: make's output and the steps on
    /// a terminal, nothing in scripts. `took` says which (", built in N s" or ", already cached").
    static func build(home: String, config: String?, jobs: Int?) throws -> (build: GuestKernelBuild, result: GuestKernelBuild.Result, took: String) {
        let cache = KernelCache(home: home)
        let build = try GuestKernelBuild.installed(cache: cache, fragmentPath: try fragmentPath(config))
        let terminal = isatty(2) == 1
        let start = Date()
        let result = try build.build(
            jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, output: terminal ? FileHandle.standardError : nil
        ) { message in
            if terminal { FileHandle.standardError.write(Data("kernel: \(message)\n".utf8)) }
        }
        let took = result.built ? String(format: ", built in %.0f s", Date().timeIntervalSince(start)) : ", already cached"
        return (build, result, took)
    }

    /// `option`, $COFFER_KERNEL_CONFIG, or the fragment in a source checkout above this executable.
    static func fragmentPath(_ option: String?) throws -> String {
        if let option { return option }
        if let fromEnvironment = ProcessInfo.processInfo.environment["COFFER_KERNEL_CONFIG"], !fromEnvironment.isEmpty { return fromEnvironment }
        let relative = "Sources/CofferVMM/Kernel/\(GuestKernelBuild.fragmentName)"
        var directory = URL(fileURLWithPath: CommandLine.executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent(relative).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw CofferError(.notFound, "the kernel configuration fragment \(relative) was not found: pass --config or set COFFER_KERNEL_CONFIG")
    }
}
