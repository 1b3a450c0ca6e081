import ArgumentParser
import CofferCore
import CofferImage
import CofferVerifier
import Foundation

/// `coffer attest collateral`: getting the collateral DCAP verification needs, once, so that
/// verification itself runs offline.
struct AttestCollateralCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collateral", abstract: "Get DCAP collateral for SGX and TDX quotes.", subcommands: [Fetch.self])

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a quote's collateral from a PCCS or Intel PCS (API v4) into a bundle file.",
            discussion: """
                Reads the TEE type, FMSPC and PCK CA from the quote, fetches the PCK CRL, the root CA \
                CRL, TCB Info and QE Identity with their issuer chains, and writes the bundle that \
                `coffer attest verify --collateral` reads. Nothing fetched is trusted: verification \
                checks every signature up to the pinned Intel root.
                """)

        @Option(help: "The PCCS or PCS base URL, e.g. https://api.trustedservices.intel.com.") var pccs: String
        @Option(help: "The SGX or TDX quote (binary).") var evidence: String
        @Option(name: .shortAndLong, help: "Where to write the bundle (JSON).") var output: String
        @Flag(help: "Allow a plain http:// URL (the collateral is signed; TLS only hides which platform asks).")
        var insecure = false

        func run() throws {
            try reportingErrors {
                guard let url = URL(string: pccs) else {
                    throw CofferError(.invalidInput, "--pccs \(pccs) is not a URL")
                }
                let quote = try FileSystem.read(evidence)
                let bundle: [UInt8]
                do throws(PCCSError) {
                    let client = try PCCSClient(baseURL: url, allowPlainHTTP: insecure)
                    bundle = try client.collateralBundle(forQuote: Array(quote))
                } catch {
                    switch error {
                    case .quote, .url: throw CofferError(.invalidInput, error.description, cause: error)
                    case .http, .response: throw CofferError(.system, error.description, cause: error)
                    }
                }
                try AtomicFile.write(Data(bundle), to: output)
                FileHandle.standardError.write(Data("collateral written to \(output)\n".utf8))
            }
        }
    }
}
