import ArgumentParser
import CofferCore
import CofferEvidence
import CofferImage
import CofferKBS
import CofferKBSProtocol
import Crypto
import Foundation
import CofferJSON

struct KBSClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "client", abstract: "Talk to a KBS as a workload would.",
                                                    subcommands: [AttestAndGet.self])

    struct AttestAndGet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attest-and-get",
            abstract: "auth → attest → get a resource; prints the secret to stdout and the session id to stderr.")

        enum EvidenceKindOption: String, ExpressibleByArgument { case sample, file }

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "KBS base URL, e.g. http://127.0.0.1:8080") var url: String
        @Option(help: "sample: make sample evidence with the launcher key; file: send --evidence as is.") var evidenceKind: EvidenceKindOption = .sample
        @Option(help: "TEE type (sample, sgx, tdx, snp).") var tee: String = "sample"
        @Option(help: "sample: measurement, hex (up to 48 bytes).") var measurement: String = ""
        @Option(help: "sample: host data / image id, hex (up to 32 bytes).") var hostData: String = ""
        @Option(help: "sample: launcher key (Ed25519 PEM); default $COFFER_HOME/keys/launcher.key.") var launcherKey: String?
        @Option(help: "file: the evidence (quote/report bytes); it cannot bind the nonce unless made for it.") var evidence: String?
        @Option(help: "file: DCAP/SNP collateral JSON to send along.") var collateral: String?
        @Option(help: "repository/type/tag") var resource: String
        @Option(help: "TEE key: ec (P-256, ECDH-ES+A256KW) or RSA-OAEP-256, RSA-OAEP, RSA1_5.") var keyType: String = "ec"
        @Option(help: "Verify the response signature with this KBS public key (P-256 PEM).") var kbsKey: String?
        @Option(help: "Trust only this TLS certificate (PEM), e.g. the KBS's $COFFER_HOME/kbs/tls.crt.") var cacert: String?
        @Option(help: "Present this init-data (TOML, e.g. from `coffer measure --format json`) at attest, as a guest launched with it does.")
        var initData: String?

        func run() throws {
            try reportingErrors {
                let key = keyType == "ec" ? TEEKeyPair.ec() : try TEEKeyPair.rsa(alg: keyType)
                let client = try KBSClient(baseURL: url, trustedCertificatePEM: try cacert.map { try readPEM($0, "--cacert") })
                let make = try evidenceMaker()
                let (tee, resource) = (self.tee, self.resource)
                let path: ResourceURI
                do { path = try ResourceURI(path: resource) } catch { throw CofferError(.invalidInput, "--resource: \(error)") }
                var expectedKey: P256.Signing.PublicKey?
                if let kbsKey {
                    guard let k = try? P256.Signing.PublicKey(pemRepresentation: try readPEM(kbsKey, "--kbs-key")) else {
                        throw CofferError(.invalidInput, "--kbs-key \(kbsKey): not a P-256 public key in PEM")
                    }
                    expectedKey = k
                }
                let verifyKey = expectedKey
                let presented = try initData.map { InitData(format: "toml", body: String(decoding: try FileSystem.read($0), as: UTF8.self)) }
                let secret = try blocking { () -> [UInt8] in
                    let handshake: KBSClient.Handshake
                    do { handshake = try await client.handshake(tee: tee, key: key, initData: presented, evidence: make) } catch let error as KBSClientError {
                        if let session = error.session { FileHandle.standardError.write(Data("session \(session)\n".utf8)) }
                        throw CofferError(.denied, error.description)
                    }
                    FileHandle.standardError.write(Data("session \(handshake.session)\n".utf8))
                    do {
                        let (plaintext, reply) = try await client.resource(resource, session: handshake.session, key: key)
                        if let verifyKey {
                            // Version 2: this body, for this path and this run's key (decision 0022 §5).
                            do {
                                try ResourceSignature.verify(reply.header(ResourceSignature.header) ?? "", body: Array(reply.body),
                                                             resource: path, teePubkey: key.publicKey, key: verifyKey)
                            } catch {
                                throw CofferError(.integrity, "\(error) (--kbs-key): refusing it")
                            }
                        }
                        return plaintext
                    } catch let error as KBSClientError { throw CofferError(.denied, error.description) }
                }
                FileHandle.standardOutput.write(Data(secret))
            }
        }

        func evidenceMaker() throws -> @Sendable (RuntimeData, BindingHash) throws -> CompositeEvidence {
            switch evidenceKind {
            case .sample:
                guard let m = Hex.decode(measurement), m.count <= 48, let h = Hex.decode(hostData), h.count <= 32 else {
                    throw CofferError(.invalidInput, "--measurement/--host-data: hex of at most 48/32 bytes")
                }
                let attester = SampleAttester(launcherKey: try LauncherKey.load(explicit: launcherKey, store: storeOptions.store), measurement: m, hostData: h)
                return { runtime, hash in try attester.evidence(runtimeData: runtime, hash: hash) }
            case .file:
                guard let evidence else { throw CofferError(.invalidInput, "--evidence-kind file needs --evidence") }
                let bytes = try FileSystem.read(evidence)
                var primary: [String: JSONValue] = [tee == "snp" ? "report" : tee == "sample" ? "evidence" : "quote": .string(bytes.base64EncodedString())]
                if let collateral {
                    let data = try FileSystem.read(collateral)
                    guard let json = try? JSONValue.parse(Array(data)) else { throw CofferError(.invalidInput, "--collateral \(collateral): not JSON") }
                    primary["collateral"] = json
                }
                let fixed = CompositeEvidence(primaryEvidence: .object(primary))
                return { _, _ in fixed }
            }
        }
    }
}
