import CofferEvidence
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
        // Intel parsers (SGX/TDX quotes, TCB Info, QE Identity, CRLs): add one line each here,
        // e.g. `_ = try? QuoteV4(parsing: bytes)`.
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
