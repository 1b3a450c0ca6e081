import ArgumentParser
import CofferCore
import CofferEvidence
import CofferImage
import CofferVMM
import CofferWire
import Foundation

/// `coffer attest vm VM [--nonce HEX] -o FILE`: asks a running VM's agent for evidence for the
/// nonce. The guest binds not the nonce but report data it derives from it
/// (`AttestVMBinding.reportData(nonce:)`, printed here), so that no host can make it quote a key
/// broker's binding. A TDX or SEV-SNP guest answers with its quote or report (through the
/// kernel's TSM report interface); a guest without a TEE answers that it has none, and then — in
/// development mode only — the launcher signs `sample` evidence over the VM's launch measurement,
/// which protects nothing and says so.
struct AttestVMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm", abstract: "Obtain evidence from a running VM's guest (sample evidence, clearly marked, without a TEE).")

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "A nonce, up to 64 bytes hex; the evidence binds SHA-512(\"\(AttestVMBinding.label)\" || 0x00 || nonce).") var nonce = ""
    @Option(help: "Launcher key for sample evidence (default $COFFER_HOME/keys/launcher.key).") var key: String?
    @Option(name: .shortAndLong, help: "Where to write the evidence.") var output: String
    @Argument(help: "The VM's name or id.") var vm: String

    func run() throws {
        try reportingErrors {
            guard let nonceBytes = Hex.decode(nonce), nonceBytes.count <= AttestRequest.maximumNonceSize else {
                throw CofferError(.invalidInput, "--nonce \(nonce): expected at most \(AttestRequest.maximumNonceSize) bytes of hex")
            }
            let reportData = AttestVMBinding.reportData(nonce: nonceBytes)
            let entry: VMStore.Entry
            let answer: GuestEvidence
            do {
                entry = try storeOptions.vms.resolve(vm)
                guard entry.state.status == .running else { throw VMMError.wrongState("\(vm) is not running (\(entry.state.status.rawValue))") }
                let client = try ControlClient(directory: entry.directory)
                try client.send(AttestRequest(nonce: nonceBytes))
                let frame = try client.next()
                if frame.kind == .failure { throw VMMError.agentFailure(try AgentFailure(frame)) }
                answer = try GuestEvidence(frame)
            } catch let error as VMMError {
                throw error.cofferError
            }
            FileHandle.standardError.write(Data("nonce: \(Hex.encode(nonceBytes))\nreport data: \(Hex.encode(reportData)) (SHA-512 of \"\(AttestVMBinding.label)\", 0x00, the nonce)\n".utf8))
            switch answer.format {
            case .tdxQuote, .snpReport:
                try AtomicFile.write(Data(answer.bytes), to: output)
                FileHandle.standardError.write(Data("wrote \(output): \(answer.format == .tdxQuote ? "TDX quote" : "SEV-SNP report") from the guest\n".utf8))
            case .none:
                guard let measurement = Hex.decode(entry.spec.launchMeasurement.replacingOccurrences(of: "sha256:", with: "")),
                    let imageDigest = Hex.decode(entry.spec.imageID.replacingOccurrences(of: "sha256:", with: ""))
                else { throw CofferError(.integrity, "the VM's record has no launch measurement or image id") }
                let signingKey = try LauncherKey.load(explicit: key, store: storeOptions.store)
                let evidence: SampleEvidence
                do {
                    evidence = try SampleEvidence.signed(
                        measurement: measurement + [UInt8](repeating: 0, count: 48 - measurement.count), hostData: imageDigest,
                        reportData: reportData, by: signingKey)
                } catch {
                    throw CofferError(.invalidInput, "cannot make sample evidence: \(error)")
                }
                try AtomicFile.write(Data(evidence.encoded), to: output)
                FileHandle.standardError.write(Data("""
                    coffer: the guest has no TEE (\(answer.note))
                    wrote \(output): sample evidence signed by this launcher over the launch measurement and image id, NOT hardware-backed — it protects nothing and no default policy accepts it

                    """.utf8))
            }
        }
    }
}
