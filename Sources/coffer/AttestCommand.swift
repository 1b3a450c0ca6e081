import ArgumentParser
import CofferCore
import CofferEvidence
import CofferImage
import CofferVerifier
import Crypto
import _CryptoExtras
import Foundation
import X509
import CofferJSON

struct AttestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract: "Obtain evidence from a running VM, and verify TEE evidence (SGX/TDX DCAP quotes, SEV-SNP reports, sample).",
        subcommands: [Verify.self, Sample.self, AttestVMCommand.self, AttestCollateralCommand.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify evidence against collateral at a given time; exit status 1 if it fails.")

        @Option(help: "The evidence: an SGX/TDX quote, an SEV-SNP report or sample evidence (binary).")
        var evidence: String
        @Option(help: "Collateral bundle (JSON): DCAP CRLs, TCB Info and QE Identity, or SNP {vcek|vlek, cert_chain}.")
        var collateral: String?
        @Option(help: "SNP: the VCEK or VLEK certificate (DER or PEM), instead of a bundle.") var vcek: String?
        @Option(help: "SNP: the ASK/ASVK and ARK certificates (PEM), with --vcek.") var certChain: String?
        @Option(help: "Verification time: Unix seconds or ISO 8601 (default: now).") var at: String?
        @Option(help: "Trust this Intel root (PEM) instead of the built-in Intel SGX Root CA.") var intelRoot: String?
        @Option(help: "Also trust this AMD ARK certificate (PEM).") var amdArk: [String] = []
        @Option(help: "Trust sample evidence signed by this launcher public key (Ed25519 PEM).") var sampleSigner: [String] = []
        @Option(help: ArgumentHelp("SNP: the lowest TCB to call UpToDate, bootloader=N,tee=N,snp=N,microcode=N (without it the status is NotEvaluated).",
                                   valueName: "spls")) var snpMinTcb: String?
        @Option(help: "text or json") var format: OutputFormat = .text

        func run() throws {
            try reportingErrors {
                let bytes = Array(try FileSystem.read(evidence))
                let time = try Self.parseTime(at)
                let collateralData = try loadCollateral()
                var trust = TrustAnchors()
                if let intelRoot {
                    do { trust.intelRoot = try Certificate(pemEncoded: String(decoding: try FileSystem.read(intelRoot), as: UTF8.self)) } catch {
                        throw CofferError(.invalidInput, "--intel-root \(intelRoot): not a PEM certificate")
                    }
                }
                for path in amdArk {
                    let pem = String(decoding: try FileSystem.read(path), as: UTF8.self)
                    guard let ark = try? AMDCertificate.certificates(pem: pem).last else {
                        throw CofferError(.invalidInput, "--amd-ark \(path): not a PEM certificate")
                    }
                    trust.amdARKs.append(AMDTrustAnchor(ark))
                }
                for path in sampleSigner {
                    let pem = String(decoding: try FileSystem.read(path), as: UTF8.self)
                    guard let key = try? Curve25519.Signing.PublicKey(pemRepresentation: pem) else {
                        throw CofferError(.invalidInput, "--sample-signer \(path): not an Ed25519 public key in PEM")
                    }
                    trust.sampleSigners.append(key)
                }
                var snp = SNPVerificationOptions()
                if let snpMinTcb {
                    do { snp.minimumTCB = try SNPTCBVersion(parsingComponents: snpMinTcb) } catch {
                        throw CofferError(.invalidInput, "--snp-min-tcb: \((error as? VerificationFailure)?.message ?? "\(error)")")
                    }
                }
                let result = Verifier.verify(evidence: bytes, collateral: collateralData, at: time, trust: trust, snp: snp)
                try AttestationReport(result: result, at: time).print(format)
                if case .failure = result { throw ExitCode.failure }
            }
        }

        private func loadCollateral() throws(CofferError) -> Data? {
            if let collateral { return try FileSystem.read(collateral) }
            guard let vcek else { return nil }
            guard let certChain else { throw CofferError(.invalidInput, "--vcek needs --cert-chain (the ASK/ARK PEM)") }
            let leaf = try FileSystem.read(vcek)
            let text = String(decoding: leaf, as: UTF8.self)
            let leafField = text.contains("-----BEGIN") ? text : leaf.base64EncodedString()
            let chain = String(decoding: try FileSystem.read(certChain), as: UTF8.self)
            let bundle = ["vcek": leafField, "cert_chain": chain]
            return (try? JSONSerialization.data(withJSONObject: bundle)) ?? Data()
        }

        static func parseTime(_ text: String?) throws(CofferError) -> Date {
            guard let text else { return Date() }
            if let seconds = Int64(text) { return Date(timeIntervalSince1970: TimeInterval(seconds)) }
            if let date = ISO8601DateFormatter().date(from: text) { return date }
            throw CofferError(.invalidInput, "--at \(text): expected Unix seconds or an ISO 8601 time such as 2025-06-22T13:46:40Z")
        }
    }

    /// Makes sample evidence for development and tests, signed with a local launcher key.
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make sample evidence (NOT hardware-backed) signed by a local launcher key.")

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "Measurement, 48 bytes hex (shorter values are zero-padded).") var measurement: String
        @Option(help: "Report data, up to 64 bytes hex.") var reportData: String = ""
        @Option(help: "Host data, up to 32 bytes hex.") var hostData: String = ""
        @Option(help: "Launcher key (Ed25519 PKCS#8 PEM); default $COFFER_HOME/keys/launcher.key, created if absent.")
        var key: String?
        @Option(name: .shortAndLong, help: "Output file.") var output: String

        func run() throws {
            try reportingErrors {
                let signingKey = try LauncherKey.load(explicit: key, store: storeOptions.store)
                func field(_ text: String, _ width: Int, _ flag: String) throws(CofferError) -> [UInt8] {
                    guard let bytes = Hex.decode(text), bytes.count <= width else {
                        throw CofferError(.invalidInput, "\(flag) \(text): expected at most \(width) bytes of hex")
                    }
                    return bytes + [UInt8](repeating: 0, count: width - bytes.count)
                }
                let evidence: SampleEvidence
                do {
                    evidence = try SampleEvidence.signed(
                        measurement: try field(measurement, 48, "--measurement"), hostData: try field(hostData, 32, "--host-data"),
                        reportData: try field(reportData, 64, "--report-data"), by: signingKey)
                } catch let error as CofferError { throw error } catch {
                    throw CofferError(.invalidInput, "cannot make sample evidence: \(error)")
                }
                try AtomicFile.write(Data(evidence.encoded), to: output)
                FileHandle.standardError.write(Data("""
                    wrote \(output): sample evidence, NOT hardware-backed — it protects nothing and no default policy accepts it
                    signer \(signingKey.publicKey.pemRepresentation)
                    """.utf8))
            }
        }
    }
}

/// The launcher's Ed25519 key that signs sample evidence on machines without a TEE.
enum LauncherKey {
    static func load(explicit: String?, store: ImageStore) throws(CofferError) -> Curve25519.Signing.PrivateKey {
        let path = explicit ?? "\(store.keysDirectory)/launcher.key"
        if !FileSystem.exists(path) {
            guard explicit == nil else { throw CofferError(.notFound, "\(path): no such key") }
            try FileSystem.makeDirectory(store.keysDirectory, mode: 0o700)
            let key = Curve25519.Signing.PrivateKey()
            try AtomicFile.write(Data(key.pemRepresentation.utf8), to: path, mode: 0o600)
            try AtomicFile.write(Data(key.publicKey.pemRepresentation.utf8), to: "\(store.keysDirectory)/launcher.pub")
            return key
        }
        let pem = String(decoding: try FileSystem.read(path), as: UTF8.self)
        guard let key = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) else {
            throw CofferError(.invalidInput, "\(path) is not an Ed25519 private key in PKCS#8 PEM")
        }
        return key
    }
}

/// What `coffer attest verify` prints: the claims, or the failed check and why.
struct AttestationReport: Encodable {
    var verified: Bool
    var verifiedAt: String
    var claims: Claims?
    var failure: Failure?

    struct Failure: Encodable {
        var check: String
        var message: String
    }

    init(result: Result<Claims, VerificationFailure>, at: Date) {
        verifiedAt = ISO8601DateFormatter().string(from: at)
        switch result {
        case .success(let claims):
            verified = true
            self.claims = claims
        case .failure(let failure):
            verified = false
            self.failure = Failure(check: failure.check.rawValue, message: failure.message)
        }
    }

    func print(_ format: OutputFormat) throws {
        if format == .json { return try printJSON(self) }
        if let failure {
            Swift.print("NOT VERIFIED (\(failure.check)) at \(verifiedAt): \(failure.message)")
            return
        }
        guard let claims else { return }
        Swift.print("verified \(claims.tee.rawValue) evidence at \(verifiedAt)")
        if !claims.hardwareBacked {
            Swift.print("WARNING: \(claims.details["warning"] ?? "not hardware-backed"): this is not a confidential workload")
        }
        var rows: [(String, String)] = [
            ("tcb_status", Self.status(claims.tcbStatus)),
            ("advisories", claims.advisoryIDs.isEmpty ? "none" : claims.advisoryIDs.joined(separator: ", ")),
        ]
        rows += claims.measurements.sorted { $0.key < $1.key }
        rows.append(("report_data", claims.reportData))
        rows += claims.details.filter { $0.key != "warning" }.sorted { $0.key < $1.key }
        let width = rows.map(\.0.count).max() ?? 0
        for (key, value) in rows {
            Swift.print("  \(key.padding(toLength: width, withPad: " ", startingAt: 0))  \(value)")
        }
    }

    /// Says why a status is NotEvaluated, so no one reads a verified SNP report as patched.
    static func status(_ status: TCBStatus?) -> String {
        guard let status else { return "none" }
        guard status == .notEvaluated else { return status.rawValue }
        return "NotEvaluated (not evaluated: no minimum TCB given; pass --snp-min-tcb bootloader=N,tee=N,snp=N,microcode=N)"
    }
}
