import CofferCore
import CofferImage
import CofferVMM
import CofferWire
import Crypto
import Foundation

/// What `coffer run` and `coffer tcb` share to launch an image: its verity root, the guest agent,
/// and the whole `GuestLaunch` (initramfs and kernel arguments) built from them.
enum ImageLaunch {
    /// The launch of `stored` on the cached default kernel, with the agent `--agent` names (or the
    /// default one, see `agentPath`).
    static func prepare(_ stored: StoredImage, home: String, agent: String?, kernel customKernel: String? = nil, kernelModules: String? = nil) throws -> GuestLaunch {
        let kernel: GuestKernel
        if let customKernel {
            kernel = try GuestKernel.custom(image: customKernel, modules: kernelModules)
        } else if let cached = KernelCache(home: home).defaultKernel() {
            kernel = cached
        } else {
            throw CofferError(.notFound, "no guest kernel in \(home)/kernel: run `coffer setup` first (or give --kernel)")
        }
        let verity = stored.manifest.rootfs.verity
        let root = try VerityRootDisks(
            dataPath: stored.rootfsPath, hashPath: stored.verityPath, rootHash: verity.rootHash, salt: verity.salt,
            dataBlocks: verity.dataBlocks, hashAlgorithm: verity.hashAlgorithm, dataBlockSize: verity.dataBlockSize,
            hashBlockSize: verity.hashBlockSize)
        // swift-crypto's SHA-256 (BoringSSL, SHA extensions where the CPU has them) hashes the
        // ~20 MB a launch reads several times faster than CofferCore's portable code.
        let config = stored.manifest.config
        return try GuestLaunch(
            home: home, kernel: kernel, agent: try agentPath(agent), root: root, exec: config.exec.resolved(user: config.user, cwd: config.workdir),
            brokerPin: try brokerPin(config)
        ) { Array(SHA256.hash(data: $0)) }
    }

    /// The broker the image pins (`coffer build --kbs-key`, decision 0037), as the agent checks it.
    static func brokerPin(_ config: ImageConfig) throws(CofferError) -> BrokerPin? {
        guard let pem = config.kbsKey else { return nil }
        guard let pin = ConfidentialOptions.pin(pem) else {
            throw CofferError(.invalidInput, "the image's manifest pins a broker key (kbsKey) that is not a P-256 public key in PEM")
        }
        return pin
    }

    /// The accelerator `--accel` asks for, as this host allows it.
    static func accelerator(_ option: String) throws -> AcceleratorChoice {
        guard let request = AcceleratorRequest(option) else {
            throw CofferError(.invalidInput, "--accel must be auto, kvm or tcg, not \(option)")
        }
        return AcceleratorChoice.choose(request, host: HostFacts.probe())
    }

    /// The static agent: `option`, $COFFER_AGENT, or `.build-agent/release/coffer-agent` in a
    /// directory above this executable (a source checkout after `make agent`).
    static func agentPath(_ option: String?) throws -> String {
        if let option { return option }
        if let fromEnvironment = ProcessInfo.processInfo.environment["COFFER_AGENT"], !fromEnvironment.isEmpty { return fromEnvironment }
        var directory = URL(fileURLWithPath: CommandLine.executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent(".build-agent/release/coffer-agent").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw CofferError(.notFound, "the static guest agent was not found: build it with `make agent`, or pass --agent or set COFFER_AGENT")
    }
}
