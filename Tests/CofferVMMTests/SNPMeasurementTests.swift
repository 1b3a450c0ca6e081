import CofferCore
import CofferTestSupport
@testable import CofferVMM
import Foundation
import Testing

/// The SEV-SNP launch measurement Coffer predicts, against the published values for a real
/// AmdSev OVMF (../shared/vectors/snp-measure) and against PyPI's sev-snp-measure run beside it,
/// with golden tests for each encoding that feeds the digest.
@Suite struct SNPMeasurementTests {
    static let ovmfPath = "snp-measure/ovmf_AmdSev_suffix.bin"

    func firmware() throws -> [UInt8] { try Vectors.bytes(Self.ovmfPath) }

    func measure(
        _ firmware: [UInt8], kernel: [UInt8]? = [], initrd: [UInt8]? = [], append: String = "", vcpus: Int = 1, type: String = "EPYC-v4",
        features: UInt64 = 0x21
    ) throws -> String {
        let hashes = try kernel.map { try SNPKernelHashes(kernelDigest: SHA256Digest.hash($0), initrdDigest: initrd.map { SHA256Digest.hash($0) }, commandLine: append) }
        let launch = SNPLaunch(firmware: firmware, kernelHashes: hashes, vcpus: vcpus, vcpuType: try SNPVCPUType(named: type), guestFeatures: features)
        return Hex.encode(try launch.measurement())
    }

    /// The rows of ../shared/vectors/README.md, as sev-snp-measure 0.0.13 printed them.
    @Test func theVectorsRowsAreReproduced() throws {
        let ovmf = try firmware()
        #expect(try measure(ovmf, append: "")
            == "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198")
        #expect(try measure(ovmf, append: "console=ttyS0 loglevel=7")
            == "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977")
    }

    /// Every vCPU count and type, with and without a directly booted kernel, as the reference
    /// computes it in the same run (the kernel and initrd here are small files; the CLI suite
    /// compares Coffer's real ones).
    @Test func everyVCPUCountAndTypeMatchesSevSnpMeasure() throws {
        let ovmf = try Vectors.path(Self.ovmfPath)
        let work = try TemporaryDirectory("coffer-snp")
        let kernel = try work.write("kernel", "not really a kernel\n")
        let initrd = try work.write("initrd", String(repeating: "cpio", count: 3000))
        let kernelBytes = Array(try Data(contentsOf: URL(fileURLWithPath: kernel)))
        let initrdBytes = Array(try Data(contentsOf: URL(fileURLWithPath: initrd)))
        for type in ["EPYC-v4", "EPYC-Rome", "EPYC-Milan", "EPYC-Genoa", "EPYC-Turin"] {
            for vcpus in [1, 2, 4] {
                let common = ["--vcpus", "\(vcpus)", "--vcpu-type", type, "--ovmf", ovmf]
                let direct = try SEVSNPMeasure.measurement(common + ["--kernel", kernel, "--initrd", initrd, "--append", "root=/dev/vda ro", "--guest-features", "0x21"])
                #expect(try measure(try firmware(), kernel: kernelBytes, initrd: initrdBytes, append: "root=/dev/vda ro", vcpus: vcpus, type: type) == direct, "\(type) \(vcpus)")
                let bare = try SEVSNPMeasure.measurement(common + ["--guest-features", "0x1"])
                #expect(try measure(try firmware(), kernel: nil, vcpus: vcpus, type: type, features: 0x1) == bare, "\(type) \(vcpus) without a kernel")
                #expect(direct != bare)
            }
        }
        // No initrd: QEMU hashes no bytes for it.
        let noInitrd = try SEVSNPMeasure.measurement(["--vcpus", "1", "--vcpu-type", "EPYC-Milan", "--ovmf", ovmf, "--kernel", kernel, "--append", "x"])
        #expect(try measure(try firmware(), kernel: kernelBytes, initrd: nil, append: "x", type: "EPYC-Milan", features: 0x1) == noInitrd)
    }

    /// The VMSA pages are byte for byte the ones sev-snp-measure dumps (--dump-vmsa), and the
    /// bootstrap processor's page digest is pinned.
    @Test func theVMSAPagesAreTheReferencesAndPinned() throws {
        let work = try TemporaryDirectory("coffer-snp-vmsa")
        let ovmf = try Vectors.path(Self.ovmfPath)
        let result = try run(SEVSNPMeasure.executable, ["--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-Milan", "--ovmf", ovmf, "--dump-vmsa"], directory: work.path)
        #expect(result.status == 0, "\(result.stderr)")
        let apEIP = try OVMFFooterTable(image: try firmware()).uint32(OVMFFooterTable.sevESResetBlockGUID, "reset")
        let milan = try SNPVCPUType(named: "EPYC-Milan")
        let bsp = SNPVMSA.page(eip: SNPVMSA.bspResetEIP, vcpu: milan, sevFeatures: 1)
        let ap = SNPVMSA.page(eip: apEIP, vcpu: milan, sevFeatures: 1)
        #expect(bsp == Array(try Data(contentsOf: URL(fileURLWithPath: work.file("vmsa0.bin")))))
        #expect(ap == Array(try Data(contentsOf: URL(fileURLWithPath: work.file("vmsa1.bin")))))
        #expect(Hex.encode(SHA512Digest.hash384(bsp)) == "728af287318db5f3fc4d2357a969483c4225956dc555b514a78d64ee372112d13b3dca8afd02cdbd1c55697d8ce087f5")
        #expect(Hex.encode(SHA512Digest.hash384(ap)) == "24d6d6fe1cc2fd76d9504a2e411e2a1e229a6723c94521c373c21dd97514c44895fc07fea07e04b4186d90160c8dad0b")
        #expect(apEIP == 0x0080_b004)
    }

    /// CPUID Fn0000_0001_EAX for each family, worked from AMD's encoding by hand.
    @Test func theCPUIDSignaturesArePinned() throws {
        #expect(try SNPVCPUType(named: "EPYC-v4").signature == 0x0080_0f12)
        #expect(try SNPVCPUType(named: "EPYC-Rome").signature == 0x0083_0f10)
        #expect(try SNPVCPUType(named: "EPYC-Milan").signature == 0x00a0_0f11)
        #expect(try SNPVCPUType(named: "EPYC-Genoa").signature == 0x00a1_0f10)
        #expect(try SNPVCPUType(named: "EPYC-Turin").signature == 0x00b0_0f00)
        #expect(SNPVCPUType(name: "old", family: 6, model: 0x3a, stepping: 9).signature == 0x0003_06a9)
    }

    /// Golden: PAGE_INFO as table 67 of the ABI specification lays it out, built independently
    /// with Python's struct.pack('<HBBBBBBQ', …) after the two digests.
    @Test func thePageInfoLayoutIsPinned() {
        let info = SNPLaunchDigest.pageInfo(
            current: [UInt8](repeating: 0xaa, count: 48), contents: [UInt8](repeating: 0xbb, count: 48), type: .vmsa, gpa: SNPLaunchDigest.vmsaGPA)
        #expect(info.count == 0x70)
        #expect(Array(info[0..<48]) == [UInt8](repeating: 0xaa, count: 48) && Array(info[48..<96]) == [UInt8](repeating: 0xbb, count: 48))
        #expect(Hex.encode(Array(info[96...])) == "700002000000000000f0ffffffff0000")
        #expect(Hex.encode(SHA512Digest.hash384(info)) == "82dd250ba4156f9a6dc9faaac8c5ca7533860e90b495ee8c73069a8c930a59a0555648a91592a5823867cd4285135aa0")
    }

    /// Golden: the kernel-hashes table (GUIDs stored mixed-endian, entries cmdline, initrd,
    /// kernel, padded to 176 bytes) and the page it is launched in, at the vector firmware's offset.
    @Test func theKernelHashesTableIsPinned() throws {
        let hashes = try SNPKernelHashes(
            kernelDigest: [UInt8](repeating: 0x11, count: 32), initrdDigest: [UInt8](repeating: 0x22, count: 32), cmdlineDigest: [UInt8](repeating: 0x33, count: 32))
        #expect(Hex.encode(hashes.table) == "06d63894224fc94cb479a793d411fd21a800"
            + "d82dd09720bd944caa78e7714d36ab2a3200" + String(repeating: "33", count: 32)
            + "31f7ba442f3ad74b9af141e29169781d3200" + String(repeating: "22", count: 32)
            + "3794e74dd2ab7f42b835d5b172d2045b3200" + String(repeating: "11", count: 32)
            + String(repeating: "00", count: 8))
        let page = try hashes.page(tableOffset: 0xc00)
        #expect(Hex.encode(SHA512Digest.hash384(page)) == "95b350b4657775656800a6bb4d93e4a7953a46193760479df3cc606ba88ae66b85e3c3602e90332996dfd3b644adda3f")
        #expect(throws: LaunchDigestError.self) { try hashes.page(tableOffset: 4096 - 100) }
        // The command line is hashed with its NUL; an empty one is the NUL alone.
        let empty = try SNPKernelHashes(kernelDigest: SHA256Digest.hash([]), initrdDigest: nil, commandLine: "")
        #expect(empty.cmdlineDigest == SHA256Digest.hash([0]) && empty.initrdDigest == SHA256Digest.hash([]))
        #expect(FirmwareGUID("96b582de-1fb2-45f7-baea-a366c55a082d").description == "96b582de-1fb2-45f7-baea-a366c55a082d")
    }

    /// The vector firmware's footer table and SEV metadata, as read from its bytes.
    @Test func theFirmwareStructuresAreRead() throws {
        let ovmf = try firmware()
        let table = try OVMFFooterTable(image: ovmf)
        #expect(try table.uint32(OVMFFooterTable.sevHashTableGUID, "hash table") == 0x0081_0c00)
        let metadata = try SEVMetadata(image: ovmf, table: table)
        #expect(metadata.sections.map(\.type) == [.snpSecMem, .snpSecMem, .snpSecrets, .cpuid, .svsmCAA, .snpKernelHashes, .snpSecMem])
        #expect(metadata.sections[5] == SEVMetadata.Section(gpa: 0x81_0000, length: 4096, type: .snpKernelHashes))
    }

    /// Bad inputs get errors naming what is wrong, never a trap or a silent guess.
    @Test func badInputsAreRefusedClearly() throws {
        let ovmf = try firmware()
        func failure(_ body: () throws -> String) -> String {
            do { return "no error: \(try body())" } catch { return "\(error)" }
        }
        // Not an OVMF, truncated, or cut to a size no firmware has.
        #expect(failure { try measure([UInt8](repeating: 0x5a, count: 4096)) }.contains("no OVMF GUIDed footer table"))
        #expect(failure { try measure(Array(ovmf.dropFirst(100))) }.contains("whole number of 4 KiB pages"))
        #expect(failure { try measure([]) }.contains("whole number of 4 KiB pages"))
        #expect(failure { try measure(Array(ovmf[0..<10])) }.contains("whole number"))
        // The footer table's size pointing outside the image.
        var oversized = ovmf
        oversized[ovmf.count - 50] = 0xff; oversized[ovmf.count - 49] = 0xff
        #expect(failure { try measure(oversized) }.contains("claims 65535 bytes"))
        // No SEV metadata entry (its GUID changed): not an SNP firmware.
        var noMetadata = ovmf
        let metadataGUID = try #require(find(OVMFFooterTable.sevMetadataGUID.bytes, in: ovmf))
        noMetadata[metadataGUID] ^= 0xff
        #expect(failure { try measure(noMetadata) }.contains("no SEV metadata entry"))
        // A bad metadata signature, and a section that is not whole pages.
        let asev = try #require(find(SEVMetadata.signature, in: ovmf))
        var badSignature = ovmf
        badSignature[asev] = UInt8(ascii: "B")
        #expect(failure { try measure(badSignature) }.contains("ASEV"))
        var unaligned = ovmf
        unaligned[asev + 16] = 0x10
        #expect(failure { try measure(unaligned) }.contains("is not whole pages"))
        // No SNP_KERNEL_HASHES section when a kernel is given (its type made SNP_SEC_MEM); without a kernel it measures.
        var noHashes = ovmf
        noHashes[asev + 16 + 12 * 5 + 8] = 1
        #expect(failure { try measure(noHashes) }.contains("no SNP_KERNEL_HASHES section"))
        #expect(try measure(noHashes, kernel: nil).count == 96)
        // Unknown vCPU type, a vCPU count out of range, features without SNPActive.
        #expect(failure { try measure(ovmf, type: "EPYC-Venice") }.contains("unknown vCPU type \"EPYC-Venice\": use one of EPYC, "))
        #expect(failure { try measure(ovmf, vcpus: 0) }.contains("--vcpus 0"))
        #expect(failure { try measure(ovmf, features: 0x20) }.contains("SNPActive"))
    }

    func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
