import CofferCore
import X509

/// What a quote's collateral is: the TEE (SGX or TDX, which picks the API path and the QE
/// Identity), the platform's FMSPC (which picks the TCB Info) and the CA that issued its PCK
/// certificate (which picks the PCK CRL).
///
/// Read from the PCK certificate chain the quote carries (certification data type 5), without
/// verifying anything: the bundle fetched is verified with the quote afterwards.
public struct CollateralRequest: Sendable, Equatable {
    public enum TEE: String, Sendable { case sgx, tdx }
    public enum CA: String, Sendable { case processor, platform }

    public var tee: TEE
    /// Six bytes, as in the PCK certificate's Intel SGX extension.
    public var fmspc: [UInt8]
    public var ca: CA

    public init(quote bytes: [UInt8]) throws(PCCSError) {
        let quote: DCAPQuote
        let leaf: Certificate
        do throws(VerificationFailure) {
            quote = try DCAPQuote(bytes: bytes)
            var cache: [Substring: Certificate] = [:]
            guard let first = try CertificateChain.parsePEM(try quote.pckChainPEM(), name: "PCK certificate chain", cache: &cache).first else {
                throw VerificationFailure(.certificateChain, "the PCK certificate chain is empty")
            }
            leaf = first
            fmspc = try PCKExtensions(certificate: leaf).fmspc
        } catch {
            throw .quote(error.message)
        }
        tee = quote.isTDX ? .tdx : .sgx
        // Intel names its two PCK CAs "Intel SGX PCK Processor CA" and "Intel SGX PCK Platform CA".
        let issuer = String(describing: leaf.issuer)
        if issuer.contains("PCK Processor CA") {
            ca = .processor
        } else if issuer.contains("PCK Platform CA") {
            ca = .platform
        } else {
            throw .quote("the PCK certificate's issuer \"\(issuer)\" is neither Intel's PCK Processor CA nor its PCK Platform CA")
        }
    }

    public var fmspcHex: String { Hex.encode(fmspc).uppercased() }
}
