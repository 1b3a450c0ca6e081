import CofferCore
import CofferEvidence
import Testing

@Suite("SEV-SNP report parsing")
struct SNPReportTests {
    @Test("the go-sev-guest VCEK report (version 2) decodes field by field")
    func vcekReport() throws {
        let report = try SNPReport(parsing: SNPVectors.bytes("milan-vcek-report.bin"))
        #expect(report.version == 2)
        #expect(report.signingKey == .vcek)
        #expect(report.signatureAlgorithm == 1)
        #expect(report.cpuidFamily == nil)
        #expect(report.reportedTCB == SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 0x44))
        #expect(report.reportedTCB.raw == 0x4405_0000_0000_0002)
        #expect(Hex.encode(report.chipID).hasPrefix("3ac3fe21e13fb099"))
        #expect(report.signedBytes.count == 0x2A0)
        #expect(report.signatureR.count == 72 && report.signatureS.count == 72)
    }

    @Test("the Trustee VLEK report (version 3) decodes CPUID and the VLEK signer")
    func vlekReport() throws {
        let report = try SNPReport(parsing: SNPVectors.bytes("milan-vlek-report.bin"))
        #expect(report.version == 3)
        #expect(report.signingKey == .vlek)
        #expect(report.cpuidFamily == 0x19 && report.cpuidModel == 0x01 && report.cpuidStepping == 0x01)
        #expect(report.reportedTCB == SNPTCBVersion(bootloader: 4, tee: 0, snp: 0x18, microcode: 0xD9))
        #expect(report.currentTCB.microcode == 0xDC)
        #expect(report.chipID.allSatisfy { $0 == 0 })
        #expect(report.policy == 0x3_0000)
    }

    @Test("every truncation throws, never traps", arguments: ["milan-vcek-report.bin", "milan-vlek-report.bin"])
    func truncations(name: String) throws {
        let bytes = try SNPVectors.bytes(name)
        for length in 0..<bytes.count {
            #expect(throws: SNPReportError.self) { try SNPReport(parsing: Array(bytes[..<length])) }
        }
        #expect(throws: SNPReportError.trailingBytes(count: 1)) { try SNPReport(parsing: bytes + [0]) }
    }

    @Test("unsupported version, signing key and non-zero reserved bytes are refused")
    func structuralChecks() throws {
        let bytes = try SNPVectors.bytes("milan-vcek-report.bin")
        var v = bytes
        v[0] = 1
        #expect(throws: SNPReportError.unsupportedVersion(1)) { try SNPReport(parsing: v) }
        var key = bytes
        key[0x48] = 2 << 2
        #expect(throws: SNPReportError.unsupportedSigningKey(2)) { try SNPReport(parsing: key) }
        for offset in [0x4C, 0x190, 0x1EB, 0x1EF, 0x208, 0x29F, 0x330, 0x49F] {
            var reserved = bytes
            reserved[offset] = 1
            #expect(throws: SNPReportError.self, "offset \(offset)") { try SNPReport(parsing: reserved) }
        }
        var algorithm = bytes
        algorithm[0x34] = 2
        #expect(throws: SNPReportError.unsupportedSignatureAlgorithm(2)) { try SNPReport(parsing: algorithm) }
    }

    @Test("TCB_VERSION packs and unpacks the Milan layout")
    func tcbLayout() {
        let tcb = SNPTCBVersion(bootloader: 1, tee: 2, snp: 3, microcode: 4)
        #expect(tcb.bytes == [1, 2, 0, 0, 0, 0, 3, 4])
        #expect(tcb.bootloader == 1 && tcb.tee == 2 && tcb.snp == 3 && tcb.microcode == 4)
    }
}
