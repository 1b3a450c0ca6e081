import Foundation
import SwiftASN1

/// What verifying an SEV-SNP report needs beside the report: the VCEK or VLEK certificate and
/// the AMD chain above it (ASK or ASVK, and the ARK).
///
/// Bundle file layout (JSON):
/// ```
/// { "vcek": "<PEM, or base64 of DER>",            // or "vlek"
///   "cert_chain": "<PEM: ASK or ASVK, and ARK, any order>" }
/// ```
public struct SNPCollateral: Sendable, Equatable {
    /// The VCEK or VLEK certificate.
    public var leaf: AMDCertificate
    /// Every certificate of the chain text, in the order given.
    public var chain: [AMDCertificate]

    public init(leaf: AMDCertificate, chain: [AMDCertificate]) {
        self.leaf = leaf
        self.chain = chain
    }

    /// From a leaf certificate in DER and a PEM chain (the form AMD's KDS serves them in).
    public init(leafDER: [UInt8], chainPEM: String) throws(SNPCollateralError) {
        do {
            leaf = try AMDCertificate(derEncoded: leafDER)
            chain = try AMDCertificate.certificates(pem: chainPEM)
        } catch {
            throw .certificate(error)
        }
        guard !chain.isEmpty else { throw .missing("cert_chain holds no CERTIFICATE") }
    }

    /// From the JSON bundle.
    public init(json: Data) throws(SNPCollateralError) {
        struct Bundle: Decodable {
            var vcek: String?
            var vlek: String?
            var cert_chain: String?
        }
        let bundle: Bundle
        do { bundle = try JSONDecoder().decode(Bundle.self, from: json) } catch { throw .json("\(error)") }
        guard let leafText = bundle.vcek ?? bundle.vlek else { throw .missing("neither \"vcek\" nor \"vlek\" is present") }
        guard bundle.vcek == nil || bundle.vlek == nil else { throw .json("both \"vcek\" and \"vlek\" are present") }
        guard let chainPEM = bundle.cert_chain else { throw .missing("\"cert_chain\" is absent") }
        let leafDER: [UInt8]
        if leafText.contains("-----BEGIN") {
            do { leafDER = try PEMDocument(pemString: leafText).derBytes } catch { throw .json("leaf certificate PEM: \(error)") }
        } else {
            let compact = leafText.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: compact) else { throw .json("leaf certificate is neither PEM nor base64 DER") }
            leafDER = Array(data)
        }
        try self.init(leafDER: leafDER, chainPEM: chainPEM)
    }
}

/// Why an SEV-SNP collateral bundle cannot be used.
public enum SNPCollateralError: Error, Sendable, Equatable, CustomStringConvertible {
    case json(String)
    case missing(String)
    case certificate(AMDCertificateError)

    public var description: String {
        switch self {
        case .json(let reason): "SEV-SNP collateral is not a valid bundle: \(reason)"
        case .missing(let what): "SEV-SNP collateral is incomplete: \(what)"
        case .certificate(let error): "SEV-SNP collateral: \(error)"
        }
    }
}
