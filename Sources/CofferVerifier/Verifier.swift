import CofferCore
import CofferEvidence
import Crypto
import Foundation
import X509

/// The roots a verification may end in. Defaults: Intel's SGX Root CA, AMD's Milan ARK, and no
/// sample signer at all — sample evidence is accepted only from a launcher key the caller names.
public struct TrustAnchors: Sendable {
    public var intelRoot: Certificate?
    public var amdARKs: [AMDTrustAnchor]
    public var sampleSigners: [Curve25519.Signing.PublicKey]

    public init(intelRoot: Certificate? = nil, amdARKs: [AMDTrustAnchor] = AMDTrustAnchor.builtIn,
                sampleSigners: [Curve25519.Signing.PublicKey] = []) {
        self.intelRoot = intelRoot
        self.amdARKs = amdARKs
        self.sampleSigners = sampleSigners
    }
}

/// One entry point for every evidence kind: evidence + collateral + time in, claims or a typed
/// failure out. Nothing here reads a clock, a file or the network. `snp` is the caller's minimum
/// TCB for SEV-SNP evidence (ignored for other kinds; decision 0020).
public enum Verifier {
    public static func verify(
        evidence: [UInt8], collateral: Data?, at date: Date, trust: TrustAnchors = TrustAnchors(),
        snp: SNPVerificationOptions = SNPVerificationOptions()
    ) -> Result<Claims, VerificationFailure> {
        guard let kind = EvidenceKind.detect(evidence) else {
            return .failure(.init(.malformedEvidence,
                "unrecognised evidence (\(evidence.count) bytes): not an SGX v3 or TDX v4/v5 quote, an SEV-SNP report or Coffer sample evidence"))
        }
        switch kind {
        case .sgxQuoteV3, .tdxQuoteV4, .tdxQuoteV5:
            guard let collateral else {
                return .failure(.init(.malformedCollateral, "\(kind.rawValue) needs DCAP collateral (PCK CRL, TCB Info, QE Identity): pass --collateral"))
            }
            let parsed: DCAPCollateral
            do { parsed = try DCAPCollateral(json: collateral) } catch { return .failure(error) }
            return DCAPVerifier.verify(quote: evidence, collateral: parsed, at: date, trustedRoot: trust.intelRoot)
        case .snpReport:
            guard let collateral else {
                return .failure(.init(.malformedCollateral, "an SEV-SNP report needs its VCEK/VLEK and ASK/ARK chain: pass --collateral (JSON) or --vcek and --cert-chain"))
            }
            return SNPVerifier.verify(report: evidence, collateralJSON: collateral, at: date, trustedARKs: trust.amdARKs, options: snp)
        case .sample:
            guard !trust.sampleSigners.isEmpty else {
                return .failure(.init(.certificateChain,
                    "sample evidence is not hardware-backed and is accepted only from a launcher key you trust: pass --sample-signer"))
            }
            return SampleVerifier.verify(evidence: evidence, trustedSigners: trust.sampleSigners)
        }
    }
}
