import CofferEvidence
import CofferJSON
import CofferVerifier
import Foundation

/// Every parser that reads hostile evidence or collateral, fed the same bytes. A parser may
/// throw; it must not trap, hang or touch memory it does not own.
enum EvidenceParsers {
    /// The VCEK vector's collateral, from the directory in COFFER_FUZZ_VECTORS (set by
    /// Fuzz/run-evidence-fuzz); without it only the parsers run.
    static let vcekCollateral: SNPCollateral? = {
        guard let directory = ProcessInfo.processInfo.environment["COFFER_FUZZ_VECTORS"],
            let leaf = FileManager.default.contents(atPath: directory + "/snp/milan-vcek.der"),
            let chain = FileManager.default.contents(atPath: directory + "/snp/milan-ask-ark.pem")
        else { return nil }
        return try? SNPCollateral(leafDER: Array(leaf), chainPEM: String(decoding: chain, as: UTF8.self))
    }()

    /// The Intel vectors' quotes and collateral (same directory), so that a quote that parses is
    /// verified against real collateral and a collateral bundle that parses verifies a real quote.
    static let intelVectors: [(quote: [UInt8], collateral: DCAPCollateral)] = {
        guard let directory = ProcessInfo.processInfo.environment["COFFER_FUZZ_VECTORS"] else { return [] }
        return ["sgx-dcap", "tdx-dcap"].compactMap { name in
            guard let quote = FileManager.default.contents(atPath: "\(directory)/\(name)/quote.bin"),
                let json = FileManager.default.contents(atPath: "\(directory)/\(name)/collateral.json"),
                let collateral = try? DCAPCollateral(json: json)
            else { return nil }
            return (Array(quote), collateral)
        }
    }()

    static let intelTime = Date(timeIntervalSince1970: 1_750_600_000)

    static func run(_ bytes: [UInt8]) {
        if (try? SNPReport(parsing: bytes)) != nil, let collateral = vcekCollateral {
            // A report that parses also goes through the whole verifier (signature conversion,
            // chain, claims); the fixed time is inside the vector chain's windows.
            _ = SNPVerifier.verify(report: bytes, collateral: collateral, at: Date(timeIntervalSince1970: 1_750_600_000))
        }
        _ = try? SampleEvidence(parsing: bytes)
        if let certificate = try? AMDCertificate(derEncoded: bytes) {
            _ = try? EndorsementKeyExtensions(certificate)
        }
        _ = try? AMDCertificate.certificates(pem: String(decoding: bytes, as: UTF8.self))
        _ = try? SNPCollateral(json: Data(bytes))
        _ = SampleVerifier.verify(evidence: bytes, trustedSigners: [])
        // Intel: quotes (and, when one parses, the whole DCAP verifier against both vectors'
        // collateral), and collateral bundles (TCB Info, QE Identity, PEM chains, CRLs; when one
        // parses, it verifies both vectors' quotes).
        let sgx = try? SGXQuote(bytes: bytes)
        let tdx = try? TDXQuote(bytes: bytes)
        if sgx != nil || tdx != nil {
            for vector in intelVectors {
                _ = DCAPVerifier.verify(quote: bytes, collateral: vector.collateral, at: intelTime)
            }
        }
        // An SGX enclave's files (decision 0033): the SGXS stream and, when the bytes parse as a
        // SIGSTRUCT, its RSA and Q1/Q2 check.
        _ = try? SGXSMeasurement(stream: bytes)
        if let sigStruct = try? SigStruct(bytes: bytes) { _ = try? sigStruct.verifySignature() }
        // A PCS response: the signed member's exact text is cut out by its span (PCCSClient).
        if let spans = try? JSONParser.memberSpans(bytes) {
            for span in spans.values { _ = try? JSONValue.parse(bytes[span]) }
        }
        if let collateral = try? DCAPCollateral(json: Data(bytes)) {
            for vector in intelVectors {
                _ = DCAPVerifier.verify(quote: vector.quote, collateral: collateral, at: intelTime)
            }
        }
    }
}

#if COFFER_FUZZ
import CLibFuzzer

/// libFuzzer's per-input callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // Sound: libFuzzer passes `size` readable bytes at `data` for the duration of this call,
    // and they are copied into an Array before use.
    guard let data, size > 0 else {
        EvidenceParsers.run([])
        return 0
    }
    EvidenceParsers.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// The program's entry point in the fuzzing build. SwiftPM links debug executables with
/// `--defsym main=evidence_fuzz_main` (so tests can import them), which hides libFuzzer's own
/// `main`; this hands control to libFuzzer's driver instead, with the same arguments.
@_cdecl("evidence_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without the fuzzer: replays the files named on the command line (a corpus, or a crash input
/// libFuzzer saved) through the same parsers, so a finding can be debugged in a normal build.
/// (An `@main` type rather than top-level code: `make fuzz` compiles with -parse-as-library.)
@main
enum EvidenceReplay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("evidence-fuzz: cannot read \(path)\n".utf8))
                exit(2)
            }
            EvidenceParsers.run(Array(data))
            print("evidence-fuzz: \(path): parsed without a crash")
        }
    }
}
#endif
