import CofferSys
import CofferWire
import Glibc

/// One report through the kernel's configfs-tsm interface (Linux Documentation/ABI/testing/
/// configfs-tsm-report, 6.7+):
///
/// ```
/// <root>/tsm/report/<entry>/   mkdir: a fresh request of our own
///     inblob       write: the 64 bytes of report data
///     generation   read: how many writes the entry has seen (1 after ours)
///     provider     read: tdx_guest or sev_guest
///     outblob      read: the TDX quote or the SNP attestation report
///     auxblob      read (SNP): the certificate table the host supplied, VCEK among it
/// rmdir when done.
/// ```
struct TSMReport {
    /// Where configfs is mounted: /sys/kernel/config in the guest, a directory the test lays out.
    var root: String
    /// The TEE the measured launch names (`coffer.tee=`); nil: the launch is not confidential.
    var expected: GuestEvidence.Format?
    /// configfs makes an entry's attributes on mkdir and drops them on rmdir; a test's fake tree
    /// lays them out here instead (the seam).
    var makeEntry: (String) -> Int32 = { mkdir($0, 0o700) }
    var removeEntry: (String) -> Void = { _ = rmdir($0) }

    struct Report: Equatable {
        var format: GuestEvidence.Format
        var outblob: [UInt8]
        /// SNP's certificate table, empty when the host supplied none (or for TDX).
        var auxblob: [UInt8]
    }

    static let reportDataSize = 64

    /// The kernel's provider name for a format.
    static func provider(of format: GuestEvidence.Format) -> String? {
        switch format {
        case .tdxQuote: "tdx_guest"
        case .snpReport: "sev_guest"
        case .none: nil
        }
    }

    /// A report binding `reportData`, or why there is none (a sentence for `GuestEvidence.none`).
    func obtain(reportData: [UInt8], entryName: String) -> Result<Report, ReportFailure> {
        guard reportData.count == Self.reportDataSize else {
            return .failure(ReportFailure("the report data is \(reportData.count) bytes, not \(Self.reportDataSize)"))
        }
        let reports = "\(root)/tsm/report"
        guard access(reports, F_OK) == 0 else {
            let expectation = expected.flatMap(Self.provider(of:)).map { "the measured launch expects \($0), but " } ?? ""
            return .failure(ReportFailure("no TEE report interface in this guest (\(reports) is absent): \(expectation)not a confidential VM"))
        }
        guard let expected, let wanted = Self.provider(of: expected) else {
            return .failure(ReportFailure("this launch is not confidential (no coffer.tee= on its measured command line): no TEE evidence"))
        }
        let entry = "\(reports)/\(entryName)"
        /// A fresh entry per request: an entry someone else made (EEXIST) could hold their inblob.
        guard makeEntry(entry) == 0 else {
            /// The kernel refuses a report entry with ENXIO while no TEE driver has registered as
            /// its provider (drivers/virt/coco/tsm: a kernel with TSM_REPORTS on a plain VM).
            if errno == ENXIO {
                return .failure(ReportFailure(
                    "the guest kernel's TEE report interface has no provider (mkdir \(entry): ENXIO), but the measured launch expects \(wanted): not a confidential VM"))
            }
            return .failure(ReportFailure("mkdir \(entry): \(String(cString: strerror(errno)))"))
        }
        defer { removeEntry(entry) }
        do {
            /// Security: the provider must be the TEE the measured launch names; the host chooses
            /// neither (a guest kernel's provider is the guest's), but a mismatch means this is not
            /// the launch the verifier expects, and the agent says so rather than sending other evidence.
            let provider = try Self.line(try readFile("\(entry)/provider"))
            guard provider == wanted else {
                return .failure(ReportFailure("the TEE report provider is \(provider.isEmpty ? "none" : provider), but the measured launch expects \(wanted)"))
            }
            let input = try FileDescriptor.open("\(entry)/inblob", O_WRONLY)
            defer { input.close() }
            try input.writeAll(reportData)
            let before = try Self.line(try readFile("\(entry)/generation"))
            let outblob = try readFile("\(entry)/outblob") ?? []
            let auxblob = expected == .snpReport ? (try readFile("\(entry)/auxblob") ?? []) : []
            let after = try Self.line(try readFile("\(entry)/generation"))
            /// Our entry saw exactly our one write; any other count means another writer touched it
            /// between our write and our read, so the outblob may bind their data.
            guard before == "1", after == before else {
                return .failure(ReportFailure("the TEE report entry was written concurrently (generation \(before), then \(after)): refusing its outblob"))
            }
            guard !outblob.isEmpty else { return .failure(ReportFailure("the TEE report interface returned an empty outblob")) }
            return .success(Report(format: expected, outblob: outblob, auxblob: auxblob))
        } catch {
            return .failure(ReportFailure("the TEE report failed: \(error)"))
        }
    }

    private static func line(_ bytes: [UInt8]?) throws(SystemError) -> String {
        String(String(decoding: bytes ?? [], as: UTF8.self).split(separator: "\n").first ?? "")
    }
}

struct ReportFailure: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// SEV-SNP's certificate table, as the host hands it to the guest (the auxblob; SEV-SNP
/// Firmware ABI / GHCB specification, "SNP Extended Guest Request", table of certificate entries):
///
/// ```
/// entry: GUID (16) | offset LE32 | length LE32   ... until an all-zero entry
/// ```
/// Offsets are from the table's start. Host input: every read is bounds checked.
enum SNPCertificateTable {
    /// 63da758d-e664-4564-adc5-f4b93be8accd, the VCEK.
    static let vcekGUID: [UInt8] = [0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd]

    /// The VCEK's DER in `table`, nil when the table has none or does not parse.
    static func vcek(_ table: [UInt8]) -> [UInt8]? {
        var offset = 0
        while offset + 24 <= table.count {
            let guid = Array(table[offset..<(offset + 16)])
            let start = Int(le32(table, offset + 16)), length = Int(le32(table, offset + 20))
            if guid.allSatisfy({ $0 == 0 }) && start == 0 && length == 0 { return nil }
            if guid == vcekGUID {
                guard length > 0, start <= table.count, length <= table.count - start else { return nil }
                return Array(table[start..<(start + length)])
            }
            offset += 24
        }
        return nil
    }

    private static func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
}
