import CofferSys
import CofferWire
import Glibc

/// Evidence from the guest's TEE through the kernel's TSM report interface (`TSMReport`). The TEE
/// to expect comes from the measured command line (`coffer.tee=`), never from the host. A guest
/// without the interface (no TEE, or an older kernel such as Debian 12's 6.1) answers `none` with
/// the reason: the launcher then knows it is development mode.
struct TEEEvidence {
    static let configfs = "/sys/kernel/config"
    nonisolated(unsafe) static var requests = 0

    var report: TSMReport

    init(expected: GuestEvidence.Format?, root: String = TEEEvidence.configfs) {
        report = TSMReport(root: root, expected: expected)
    }

    init(report: TSMReport) { self.report = report }

    /// The TEE named by `coffer.tee=` on the measured command line; nil for a plain launch.
    static func expected(commandLine: KernelCommandLine) throws(FieldError) -> GuestEvidence.Format? {
        guard let parameter = commandLine.parameter("coffer.tee") else { return nil }
        switch parameter.value {
        case "tdx": return .tdxQuote
        case "snp": return .snpReport
        default: throw FieldError("coffer.tee=\((parameter.value ?? "").prefix(16)) is not tdx or snp")
        }
    }

    /// The report, with configfs mounted first in the guest (a test's root is laid out already).
    func obtain(reportData: [UInt8]) -> Result<TSMReport.Report, ReportFailure> {
        if report.root == Self.configfs, access("\(report.root)/tsm", F_OK) != 0 {
            _ = try? Mount.mount("configfs", on: Self.configfs, type: "configfs", flags: UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC))
        }
        Self.requests += 1
        return report.obtain(reportData: reportData, entryName: "coffer-\(getpid())-\(Self.requests)")
    }
}

/// The guest's TEE through the kernel's TSM report interface.
struct TSMEvidenceSource: EvidenceSource {
    var tee = TEEEvidence(expected: nil)

    /// The measured launch's TEE: what provisioning announces to the broker. A launch that names
    /// a TEE never falls back to sample evidence: if the TEE is not there, `evidence` fails.
    var teeKind: GuestEvidence.Format { tee.report.expected ?? .none }

    func evidence(reportData: [UInt8]) -> GuestEvidence {
        switch tee.obtain(reportData: reportData) {
        case .success(let report): GuestEvidence(report.format, report.outblob)
        case .failure(let failure): GuestEvidence(.none, Array(failure.message.utf8))
        }
    }

    func evidenceWithVCEK(reportData: [UInt8]) -> (GuestEvidence, vcek: [UInt8]?) {
        switch tee.obtain(reportData: reportData) {
        case .success(let report): (GuestEvidence(report.format, report.outblob), report.auxblob.isEmpty ? nil : SNPCertificateTable.vcek(report.auxblob))
        case .failure(let failure): (GuestEvidence(.none, Array(failure.message.utf8)), nil)
        }
    }
}
