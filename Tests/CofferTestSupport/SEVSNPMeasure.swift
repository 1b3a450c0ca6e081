import Foundation

/// PyPI's `sev-snp-measure` (0.0.13), the independent reference Coffer's SEV-SNP measurement is
/// compared with. scripts/install-deps puts it in `.build-python` at the repository root; a test
/// that needs it fails, naming the fix, when it is missing (never skips: CI installs it).
public enum SEVSNPMeasure {
    public static var executable: String { "\(Repository.root())/.build-python/bin/sev-snp-measure" }

    /// The hex MEASUREMENT it prints for `--mode snp` and `arguments`.
    public static func measurement(_ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestFailure("\(executable) is missing: run scripts/install-deps (it installs sev-snp-measure 0.0.13 from PyPI)")
        }
        let result = try run(executable, ["--mode", "snp"] + arguments)
        guard result.status == 0 else { throw TestFailure("sev-snp-measure \(arguments) failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
