import ArgumentParser
import CofferCore
import CofferImage
import CofferJSON
import CofferKBS
import CofferKBSProtocol
import CofferVerifier
import CofferVMM
import CofferWire
import Crypto
import Foundation

/// `coffer measure IMAGE [CMD...]`: what a broker will see when a launch of the image with these
/// options attests, and (`--format policy`) the broker policies that admit exactly that launch.
/// Nothing is started; the launch is prepared as `coffer run` prepares it (see `LaunchPrediction`).
/// `coffer measure --tee snp --firmware F [--kernel K --initrd I --append C]` without IMAGE: the
/// SEV-SNP measurement of those explicit inputs.
struct MeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Print the launch measurement and TEE fields a launch of an image will attest, or the broker policy admitting it.",
        discussion: """
            Give the same CMD, workload options, --accel, -p, --kbs, --secret and -v as to `coffer run`: all of them are \
            measured. --tee sample predicts everything (the launch measurement and host_data, here \
            launcher-signed and accepted only by a broker started with --dev). --tee snp also predicts the \
            SEV-SNP MEASUREMENT over --firmware (an AmdSev OVMF), --vcpus of --vcpu-type, --guest-features \
            and the kernel, initramfs and command line; without IMAGE it measures --firmware with the explicit \
            --kernel, --initrd and --append. For tdx only the host-set init-data field is predictable today; \
            its launch digests are not printed rather than guessed. --format policy prints {"attestation": …, \
            "resource": …} for `coffer kbs admin set-policy --file` (without --kind): it REPLACES the broker's \
            policies with ones admitting exactly this launch and the resources it names. \
            --tee sgx ENCLAVE.sgxs [--sigstruct FILE] computes the enclave's MRENCLAVE from its SGXS stream, checks \
            the SIGSTRUCT (its signature, and that its ENCLAVEHASH is that MRENCLAVE) and prints MRSIGNER, ISVPRODID and \
            ISVSVN; its policy admits exactly that enclave (and gives it the --sgx-resource paths).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, policy }

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The TEE the launch attests with: sample, snp or tdx; sgx measures an enclave (see below).") var tee: LaunchPrediction.TEE = .sample
    @Option(help: "text, json or policy.") var format: Format = .text
    @Option(help: "auto, kvm or tcg (the command line differs: tsc_early_khz under TCG).") var accel = "auto"
    @OptionGroup var guest: GuestOptions
    @OptionGroup var program: WorkloadOptions
    @Flag(name: .shortAndLong, help: "As `run -t` (measured).") var tty = false
    @Flag(name: .shortAndLong, help: "As `run -i` (measured).") var interactive = false
    @Option(name: .shortAndLong, help: "As `run -p` (a network device is measured).") var publish: [String] = []
    @OptionGroup var confidential: ConfidentialOptions
    @OptionGroup var snp: SNPLaunchOptions
    @OptionGroup(title: "SGX enclave") var sgx: SGXMeasureOptions
    @Argument(help: "NAME[:TAG] or image id (none: --tee snp with explicit inputs; --tee sgx: the enclave's SGXS file).") var image: String?
    @Argument(parsing: .captureForPassthrough, help: "The command, as for `run` (measured).") var command: [String] = []

    func run() throws {
        try reportingErrors {
            if tee == .sgx {
                guard let image else { throw CofferError(.invalidInput, "--tee sgx needs the enclave's SGXS file") }
                return try sgx.measure(enclave: image, format: format, trailing: command)
            }
            do {
                guard let image else { return try measureExplicitInputs() }
                let prediction = try predict(image)
                switch format {
                case .text: print(prediction.text)
                case .json: try printJSON(prediction)
                case .policy:
                    let document = try prediction.policyDocument()
                    FileHandle.standardOutput.write(Data(CanonicalJSON.serialize(document)) + Data("\n".utf8))
                }
            } catch let error as VMMError {
                throw error.cofferError
            }
        }
    }

    /// `--tee snp` without IMAGE: the measurement of --firmware, --kernel, --initrd and --append.
    private func measureExplicitInputs() throws {
        guard tee == .snp else { throw CofferError(.invalidInput, "give an IMAGE, or --tee snp --firmware OVMF with explicit --kernel, --initrd and --append") }
        let prediction = try snp.prediction(kernel: guest.kernel, initrd: snp.initrd, commandLine: snp.append)
        switch format {
        case .text: print((["tee                 snp"] + prediction.textLines).joined(separator: "\n"))
        case .json: try printJSON(prediction)
        case .policy: throw CofferError(.invalidInput, "--format policy needs an IMAGE: a policy names the image and its host_data")
        }
    }

    private func predict(_ image: String) throws -> LaunchPrediction {
        let store = storeOptions.store
        let stored = try store.resolve(image)
        let launch = try guest.prepare(stored, home: store.home)
        let choice = try ImageLaunch.accelerator(accel)
        let workload = try program.request(stored.manifest.config, command: command, tty: tty, stdin: interactive).workload()
        let ports = try publish.map { text throws(CofferError) -> PortMapping in
            guard let port = PortMapping(text) else { throw CofferError(.invalidInput, "-p \(text): expected [IP:]HOST:GUEST[/tcp|udp] with ports 1-65535") }
            return port
        }
        let confidential = try confidential.launch(image: stored.id, pinnedKey: stored.manifest.config.kbsKey, volumeStore: VolumeCommand.volumes(storeOptions))
        // The run directory's paths are not measured; placeholders stand in for them (as in `tcb`).
        var vm = launch.configuration(
            accelerator: choice.accelerator, tscKilohertz: HostFacts.probe().tscKilohertz, agentSocket: "-", consoleLog: "-",
            workload: workload.binding, initData: confidential?.measured, volumes: confidential?.volumeDisks ?? [])
        vm.ports = ports
        guard !snp.namesDirectBoot else {
            throw CofferError(.invalidInput, "--initrd and --append are for measuring explicit inputs without IMAGE; an image's launch has its own")
        }
        var snpPrediction: SNPPrediction?
        if tee == .snp {
            // What `run --tee snp` launches: the confidential q35 machine under KVM, whose command
            // line carries coffer.tee=snp and none of TCG's parameters.
            vm.accelerator = .kvm
            vm.tscKilohertz = nil
            vm.machine = .confidential(ConfidentialGuest(tee: .snp, firmware: snp.firmware ?? "", initDataDigest: confidential?.measured.digest))
            let boot = LaunchPrediction.directBoot(of: vm)
            snpPrediction = try snp.prediction(kernel: boot.kernel, initrd: boot.initrd, commandLine: boot.commandLine)
        } else if snp.firmware != nil {
            throw CofferError(.invalidInput, "--firmware is for --tee snp")
        }
        return try LaunchPrediction.predict(
            tee: tee, launch: launch, vm: vm, imageID: stored.id, initData: confidential?.document, configuration: confidential?.configuration,
            snp: snpPrediction)
    }
}

/// What a launch will attest, computed without starting it: the pure core of `coffer measure`.
struct LaunchPrediction: Encodable {
    enum TEE: String, ExpressibleByArgument, CaseIterable, Encodable { case sample, snp, tdx, sgx }

    var tee: TEE
    var image: String
    /// `sha256:` + hex, as `coffer run --verbose` prints it; for snp and tdx, what Coffer's own
    /// launch measures (the hardware's digest is not predicted yet).
    var launchMeasurement: String
    var commandLine: String
    /// `sha384:` + hex of the init-data document, or nil for a launch without one.
    var initData: String?
    /// The document itself, as the launcher hands it to the guest and the guest presents it at attest.
    var initDataDocument: String?
    /// The TEE's init-data field claim and its value, lower-case hex (sample and snp `host_data`,
    /// tdx `mr_config_id`): the init-data digest fitted to the field, else the image id padded.
    var field: Field
    /// The claims a broker will check, as `Claims.measurements` names them (only predictable ones).
    var claims: [String: String]
    /// The `repo/type/tag` paths the launch will ask the broker for.
    var resources: [String]
    /// What is not predicted, said plainly (empty for sample and snp).
    var unpredicted: [String]
    /// For snp: the MEASUREMENT and the inputs it covers.
    var snp: SNPPrediction?

    struct Field: Encodable { var claim: String; var value: String }

    /// The prediction for `vm` (built by `launch.configuration`, as `run` builds it) with the
    /// init-data `initData` of `configuration`, if any.
    static func predict(
        tee: TEE, launch: GuestLaunch, vm: VMConfiguration, imageID: String, initData: InitDataDocument?, configuration: LaunchConfiguration?,
        snp: SNPPrediction? = nil
    ) throws -> LaunchPrediction {
        let measurement = try launch.measurement(of: vm)
        let (claim, length) = InitDataBinding.field(for: tee.verifierType)
        let imageDigest = Hex.decode(String(imageID.dropFirst("sha256:".count))) ?? []
        let fieldBytes = initData?.field(length: length) ?? (imageDigest + [UInt8](repeating: 0, count: max(0, length - imageDigest.count)))
        var claims = [claim: Hex.encode(fieldBytes)]
        if initData != nil, configuration != nil { claims[InitDataBinding.imageClaim] = imageID }
        var unpredicted: [String] = []
        switch tee {
        case .sample:
            // Sample evidence's `measurement` is the launch measurement zero-padded to 48 bytes
            // (HostLaunchServices, AttestVMCommand).
            claims["measurement"] = Hex.encode(measurement.digest + [UInt8](repeating: 0, count: 48 - measurement.digest.count))
        case .snp:
            if let snp {
                claims["measurement"] = snp.measurement
            } else {
                unpredicted = ["measurement (the SEV-SNP launch digest over the firmware, the vCPUs and the kernel hashes): needs --firmware"]
            }
        case .sgx:
            throw CofferError(.invalidInput, "--tee sgx measures an enclave's SGXS file, not an image launch")
        case .tdx:
            unpredicted = ["mr_td and rtmr0-3 (the TD's firmware and boot measurements): come with the confidential-launch issue (13)"]
        }
        let resources = (configuration?.secrets.map(\.resource) ?? []) + (configuration?.volumes.map(\.key) ?? [])
        return LaunchPrediction(
            tee: tee, image: imageID, launchMeasurement: measurement.digestHex, commandLine: measurement.commandLine,
            initData: initData.map { "\($0.algorithm.rawValue):\(Hex.encode($0.digest))" }, initDataDocument: initData?.text, field: Field(claim: claim, value: Hex.encode(fieldBytes)),
            claims: claims, resources: resources.compactMap { try? ResourceURI(parsing: $0).path }, unpredicted: unpredicted, snp: snp)
    }

    /// The kernel, initrd and command line a TEE launch of `vm` boots directly (QEMU's `-kernel`,
    /// `-initrd`, `-append`), which SEV-SNP hashes into the firmware's kernel-hashes page and
    /// TDVF measures: the launch's own (`QEMUCommand.directBoot`), so prediction and launch agree.
    static func directBoot(of vm: VMConfiguration) -> (kernel: String, initrd: String, commandLine: String) {
        let boot = QEMUCommand.directBoot(for: vm)
        return (boot.kernel, boot.initrd, boot.commandLine)
    }

    /// `{"attestation": …, "resource": …}` for `coffer kbs admin set-policy`: an attestation entry
    /// for this TEE admitting exactly this measurement, and one resource rule giving the resources
    /// the launch names to this image on this TEE (no rules when it names none).
    func policyDocument() throws(CofferError) -> JSONValue {
        guard unpredicted.isEmpty, let reference = claims["measurement"] else {
            throw CofferError(.unsupported, "no policy for \(tee.rawValue) yet: its launch digest is not predictable (\(unpredicted.joined(separator: "; "))); "
                + "a policy without it would admit any \(tee.rawValue) guest")
        }
        // SNP: HOST_DATA too, so the policy admits only launches the host gave this init-data
        // (or, without init-data, this image id): the broker's own init-data check needs a document.
        var references = ["measurement": [reference]]
        if tee == .snp, let hostData = claims["host_data"] { references["host_data"] = [hostData] }
        let attestation = AttestationPolicy(tees: [tee.rawValue: TEEAttestationPolicy(referenceValues: references)])
        let resource = ResourcePolicy(rules: resources.isEmpty ? [] : [ResourceRule(resources: resources, tees: [tee.rawValue], imageIDs: [image])])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return .object([
                "attestation": try JSONValue.parse(Array(encoder.encode(attestation))),
                "resource": try JSONValue.parse(Array(encoder.encode(resource))),
            ])
        } catch {
            throw CofferError(.invalidInput, "the policy could not be written: \(error)")
        }
    }

    var text: String {
        var lines = [
            "tee                 \(tee.rawValue)\(tee == .sample ? " (launcher-signed, NOT hardware-backed: a broker takes it only with --dev)" : "")",
            "image               \(image)",
            "launch measurement  \(launchMeasurement)\(tee == .sample ? "" : " (Coffer's own; not what \(tee.rawValue) hardware reports)")",
            "  cmdline           \(commandLine)",
            "init-data           \(initData ?? "none")",
        ]
        for name in claims.keys.sorted() { lines.append("claim \(name.padding(toLength: 13, withPad: " ", startingAt: 0)) \(claims[name] ?? "")") }
        lines.append("resources           \(resources.isEmpty ? "none" : resources.joined(separator: ", "))")
        lines += snp?.textLines ?? []
        lines += unpredicted.map { "not predicted       \($0)" }
        return lines.joined(separator: "\n")
    }
}

extension LaunchPrediction.TEE {
    var verifierType: TEEType {
        switch self {
        case .sample: .sample
        case .snp: .snp
        case .tdx: .tdx
        case .sgx: .sgx
        }
    }
}
