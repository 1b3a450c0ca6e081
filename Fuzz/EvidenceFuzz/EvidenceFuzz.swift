import CofferEvidence
import CofferVerifier
import Foundation

/// Every parser that reads hostile evidence or collateral, fed the same bytes. A parser may
/// throw; it must not trap, hang or touch memory it does not own.
enum EvidenceParsers {
    static func run(_ bytes: [UInt8]) {
        _ = try? SNPReport(parsing: bytes)
        _ = try? SampleEvidence(parsing: bytes)
        if let certificate = try? AMDCertificate(derEncoded: bytes) {
            _ = try? EndorsementKeyExtensions(certificate)
        }
        _ = try? AMDCertificate.certificates(pem: String(decoding: bytes, as: UTF8.self))
        _ = try? SNPCollateral(json: Data(bytes))
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
