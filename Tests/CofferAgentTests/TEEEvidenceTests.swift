@testable import CofferAgent
import CofferTestSupport
import CofferWire
import Foundation
import Glibc
import Testing

/// The agent's configfs-tsm client against a FAKE configfs tree (a seam: real configfs makes an
/// entry's attributes on mkdir; here `makeEntry` lays them out as the kernel would).
@Suite struct TEEEvidenceTests {
    static let reportData = (0..<64).map { UInt8($0) }

    /// A fake `<root>/tsm/report` whose entries answer as `provider` would.
    final class FakeConfigfs: @unchecked Sendable {
        let directory: TemporaryDirectory
        var root: String { directory.file("config") }
        var provider = "sev_guest"
        var generation = "1"
        var outblob: [UInt8] = Array("REPORT".utf8)
        var auxblob: [UInt8] = []
        var made: [String] = []
        var removed: [String] = []

        init() throws {
            directory = try TemporaryDirectory("coffer-tsm")
            try FileManager.default.createDirectory(atPath: directory.file("config/tsm/report"), withIntermediateDirectories: true)
        }

        func report(expected: GuestEvidence.Format?) -> TSMReport {
            var report = TSMReport(root: root, expected: expected)
            report.makeEntry = { [self] path in
                guard mkdir(path, 0o700) == 0 else { return -1 }
                made.append(path)
                for (name, bytes) in [("provider", Array("\(provider)\n".utf8)), ("generation", Array("\(generation)\n".utf8)), ("inblob", []),
                                      ("outblob", outblob), ("auxblob", auxblob)] {
                    FileManager.default.createFile(atPath: "\(path)/\(name)", contents: Data(bytes))
                }
                return 0
            }
            report.removeEntry = { [self] path in
                // What the test checks afterwards: the inblob as written.
                removed.append(path)
                inblobs.append([UInt8](FileManager.default.contents(atPath: "\(path)/inblob") ?? Data()))
                try? FileManager.default.removeItem(atPath: path)
            }
            return report
        }
        var inblobs: [[UInt8]] = []
    }

    @Test func anSNPReportIsObtainedFromAFreshEntryThatIsRemovedAfterwards() throws {
        let fake = try FakeConfigfs()
        let result = fake.report(expected: .snpReport).obtain(reportData: Self.reportData, entryName: "coffer-1")
        #expect(result == .success(.init(format: .snpReport, outblob: Array("REPORT".utf8), auxblob: [])))
        #expect(fake.made == ["\(fake.root)/tsm/report/coffer-1"])
        #expect(fake.removed == fake.made)
        #expect(fake.inblobs == [Self.reportData])
        #expect(!FileManager.default.fileExists(atPath: "\(fake.root)/tsm/report/coffer-1"))
    }

    @Test func aTDXQuoteToo() throws {
        let fake = try FakeConfigfs()
        fake.provider = "tdx_guest"
        fake.outblob = Array("QUOTE".utf8)
        fake.auxblob = Array("ignored for TDX".utf8)
        let result = fake.report(expected: .tdxQuote).obtain(reportData: Self.reportData, entryName: "e")
        #expect(result == .success(.init(format: .tdxQuote, outblob: Array("QUOTE".utf8), auxblob: [])))
    }

    /// The provider must be the measured launch's TEE: an SNP launch that finds TDX (or none)
    /// sends no evidence, and a launch that names no TEE sends none whatever the guest has.
    @Test func theProviderMustBeTheMeasuredTEE() throws {
        let fake = try FakeConfigfs()
        fake.provider = "tdx_guest"
        #expect(fake.report(expected: .snpReport).obtain(reportData: Self.reportData, entryName: "a")
            == .failure(ReportFailure("the TEE report provider is tdx_guest, but the measured launch expects sev_guest")))
        fake.provider = ""
        #expect(fake.report(expected: .tdxQuote).obtain(reportData: Self.reportData, entryName: "b")
            == .failure(ReportFailure("the TEE report provider is none, but the measured launch expects tdx_guest")))
        #expect(fake.removed.count == 2)
        guard case .failure(let plain) = fake.report(expected: nil).obtain(reportData: Self.reportData, entryName: "c") else {
            throw TestFailure("a plain launch must give no evidence")
        }
        #expect(plain.message.contains("not confidential"))
        #expect(fake.made.count == 2, "a plain launch does not even make an entry")
    }

    /// Another writer between our write and our read: generation is not ours alone, refused.
    @Test func aConcurrentWriterIsDetectedByGeneration() throws {
        let fake = try FakeConfigfs()
        fake.generation = "2"
        #expect(fake.report(expected: .snpReport).obtain(reportData: Self.reportData, entryName: "a")
            == .failure(ReportFailure("the TEE report entry was written concurrently (generation 2, then 2): refusing its outblob")))
        #expect(fake.removed.count == 1)
    }

    /// An entry that already exists is someone else's: never reused.
    @Test func anExistingEntryIsNotReused() throws {
        let fake = try FakeConfigfs()
        try FileManager.default.createDirectory(atPath: "\(fake.root)/tsm/report/taken", withIntermediateDirectories: true)
        guard case .failure(let failure) = fake.report(expected: .snpReport).obtain(reportData: Self.reportData, entryName: "taken") else {
            throw TestFailure("an existing entry must be refused")
        }
        #expect(failure.message.contains("mkdir \(fake.root)/tsm/report/taken: File exists"))
        #expect(fake.removed.isEmpty)
    }

    @Test func noInterfaceOrBadReportDataIsAClearNo() throws {
        let fake = try FakeConfigfs()
        guard case .failure(let absent) = TSMReport(root: fake.directory.file("nothing"), expected: .snpReport).obtain(reportData: Self.reportData, entryName: "a") else {
            throw TestFailure("expected a failure")
        }
        #expect(absent.message.contains("no TEE report interface in this guest"))
        #expect(fake.report(expected: .snpReport).obtain(reportData: [1, 2, 3], entryName: "a") == .failure(ReportFailure("the report data is 3 bytes, not 64")))
        fake.outblob = []
        #expect(fake.report(expected: .snpReport).obtain(reportData: Self.reportData, entryName: "a") == .failure(ReportFailure("the TEE report interface returned an empty outblob")))
    }

    /// SNP's auxblob: the VCEK is found by its GUID; a table that lies about offsets gives none.
    @Test func theVCEKComesFromTheCertificateTable() throws {
        let vcek = Array("DER of the VCEK".utf8)
        func entry(_ guid: [UInt8], _ offset: Int, _ length: Int) -> [UInt8] {
            guid + [0, 8, 16, 24].map { UInt8((offset >> $0) & 0xFF) } + [0, 8, 16, 24].map { UInt8((length >> $0) & 0xFF) }
        }
        let ask = [UInt8](repeating: 0x11, count: 16)
        let table = entry(ask, 72, 3) + entry(SNPCertificateTable.vcekGUID, 75, vcek.count) + [UInt8](repeating: 0, count: 24) + [9, 9, 9] + vcek
        #expect(SNPCertificateTable.vcek(table) == vcek)
        #expect(SNPCertificateTable.vcek(entry(SNPCertificateTable.vcekGUID, 1000, 10)) == nil)
        #expect(SNPCertificateTable.vcek(entry(SNPCertificateTable.vcekGUID, 10, Int(UInt32.max))) == nil)
        #expect(SNPCertificateTable.vcek([UInt8](repeating: 0, count: 24) + entry(SNPCertificateTable.vcekGUID, 0, 4)) == nil)
        #expect(SNPCertificateTable.vcek([1, 2, 3]) == nil)

        let fake = try FakeConfigfs()
        fake.auxblob = table
        let (evidence, found) = TSMEvidenceSource(tee: TEEEvidence(report: fake.report(expected: .snpReport))).evidenceWithVCEK(reportData: Self.reportData)
        #expect(evidence.format == .snpReport)
        #expect(evidence.bytes == Array("REPORT".utf8))
        #expect(found == vcek)
        // Without the seam, a bare directory has no attributes: a clear failure, not a hang.
        let bare = TSMEvidenceSource(tee: TEEEvidence(expected: .snpReport, root: fake.root)).evidenceWithVCEK(reportData: Self.reportData)
        #expect(bare.0.format == .none)
        #expect(bare.0.note.contains("provider is none"), "\(bare.0.note)")
    }

    @Test func theExpectedTEEComesFromTheMeasuredCommandLine() throws {
        #expect(try TEEEvidence.expected(commandLine: KernelCommandLine("console=ttyS0 coffer.tee=snp")) == .snpReport)
        #expect(try TEEEvidence.expected(commandLine: KernelCommandLine("coffer.tee=tdx")) == .tdxQuote)
        #expect(try TEEEvidence.expected(commandLine: KernelCommandLine("console=ttyS0")) == nil)
        #expect(throws: FieldError.self) { try TEEEvidence.expected(commandLine: KernelCommandLine("coffer.tee=sgx")) }
        #expect(throws: FieldError.self) { try KernelCommandLine("coffer.tee=snp coffer.tee=tdx") }
        // A confidential launch announces its TEE even when it is not there: it never falls back
        // to sample evidence.
        #expect(TSMEvidenceSource(tee: TEEEvidence(expected: .snpReport, root: "/nonexistent")).teeKind == .snpReport)
        #expect(TSMEvidenceSource(tee: TEEEvidence(expected: nil, root: "/nonexistent")).teeKind == .none)
    }
}
