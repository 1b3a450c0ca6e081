import CofferCore
import CofferEvidence
import CofferTestSupport
@testable import CofferVerifier
import Foundation
import Testing
import CofferJSON

@Suite("SEV-SNP verification against real AMD vectors")
struct SNPVerifierTests {
    struct Vector {
        var report: [UInt8]
        var leaf: [UInt8]
        var chainPEM: String
        var collateral: SNPCollateral
    }

    static func vcek() throws -> Vector {
        let leaf = try SNPVectors.bytes("milan-vcek.der"), pem = try SNPVectors.text("milan-ask-ark.pem")
        return Vector(
            report: try SNPVectors.bytes("milan-vcek-report.bin"), leaf: leaf, chainPEM: pem,
            collateral: try SNPCollateral(leafDER: leaf, chainPEM: pem))
    }

    static func vlek() throws -> Vector {
        let leaf = try SNPVectors.bytes("milan-vlek.der"), pem = try SNPVectors.text("milan-ask-ark-asvk.pem")
        return Vector(
            report: try SNPVectors.bytes("milan-vlek-report.bin"), leaf: leaf, chainPEM: pem,
            collateral: try SNPCollateral(leafDER: leaf, chainPEM: pem))
    }

    static func failure(_ result: Result<Claims, VerificationFailure>) -> VerificationFailure.Check? {
        if case .failure(let failure) = result { return failure.check }
        return nil
    }

    @Test("the VCEK vector verifies with the claims of its report")
    func vcekVerifies() throws {
        let v = try Self.vcek()
        let claims = try SNPVerifier.verify(report: v.report, collateral: v.collateral, at: SNPVectors.during).get()
        let report = try SNPReport(parsing: v.report)
        #expect(claims.tee == .snp && claims.hardwareBacked && claims.tcbStatus == .notEvaluated)
        #expect(claims.measurements["measurement"] == Hex.encode(report.measurement))
        #expect(claims.measurements["chip_id"] == Hex.encode(report.chipID))
        #expect(claims.measurements["reported_tcb"] == "4405000000000002")
        #expect(claims.reportData == Hex.encode(report.reportData))
        #expect(claims.details["signing_key"] == "vcek")
        #expect(claims.details["product"] == "Milan-B0")
        #expect(claims.details["report_version"] == "2")
        #expect(claims.measurements["policy"] == "00000000000b0000")
        #expect(claims.details["debug"] == "true")  // go-sev-guest's test guest allows debugging
    }

    @Test("the VLEK vector verifies inside its window and is expired after it")
    func vlekWindow() throws {
        let v = try Self.vlek()
        let claims = try SNPVerifier.verify(report: v.report, collateral: v.collateral, at: SNPVectors.during).get()
        #expect(claims.details["signing_key"] == "vlek")
        #expect(claims.details["report_version"] == "3")
        #expect(claims.details["product"] == "Milan")
        #expect(claims.details["debug"] == "false")
        #expect(claims.details["csp_id"] == "CN=cc-us-east-2.amazonaws.com")
        #expect(claims.measurements["reported_tcb"] == "d918000000000004")
        for unix in [1_733_900_000.0, 1_765_300_000.0] {  // 2024-12-11 and 2025-12-09: inside
            #expect(Self.failure(SNPVerifier.verify(report: v.report, collateral: v.collateral, at: Date(timeIntervalSince1970: unix))) == nil)
        }
        let after = SNPVerifier.verify(report: v.report, collateral: v.collateral, at: SNPVectors.afterVLEK)
        #expect(Self.failure(after) == .expired)
        let before = SNPVerifier.verify(report: v.report, collateral: v.collateral, at: Date(timeIntervalSince1970: 1_733_000_000))
        #expect(Self.failure(before) == .expired)
    }

    @Test("validity windows are read to the second and their ends are inclusive")
    func exactWindow() throws {
        let v = try Self.vlek()
        #expect(v.collateral.leaf.notBefore == Date(timeIntervalSince1970: 1_733_868_861))  // 2024-12-10 22:14:21Z
        #expect(v.collateral.leaf.notAfter == Date(timeIntervalSince1970: 1_765_404_861))  // 2025-12-10 22:14:21Z
        #expect(try Self.vcek().collateral.leaf.notAfter == Date(timeIntervalSince1970: 1_884_905_728))  // 2029-09-24 00:55:28Z
        let at = { (unix: Double) in Self.failure(SNPVerifier.verify(report: v.report, collateral: v.collateral, at: Date(timeIntervalSince1970: unix))) }
        #expect(at(1_733_868_861) == nil)
        #expect(at(1_733_868_860) == .expired)
        #expect(at(1_765_404_861) == nil)
        #expect(at(1_765_404_862) == .expired)
    }

    @Test("the VCEK vector is expired outside the VCEK's window")
    func vcekExpired() throws {
        let v = try Self.vcek()
        let result = SNPVerifier.verify(report: v.report, collateral: v.collateral, at: SNPVectors.afterVCEK)
        guard case .failure(let failure) = result else { Issue.record("verified after notAfter"); return }
        #expect(failure.check == .expired)
        #expect(failure.message.contains("SEV-VCEK"))
        #expect(Self.failure(SNPVerifier.verify(report: v.report, collateral: v.collateral, at: Date(timeIntervalSince1970: 1_660_000_000))) == .expired)
    }

    @Test("flipping any byte of the report signature fails the signature check", arguments: [true, false])
    func signatureFlips(useVCEK: Bool) throws {
        let v = useVCEK ? try Self.vcek() : try Self.vlek()
        for offset in SNPReport.signedLength..<(SNPReport.signedLength + 144) {
            var report = v.report
            report[offset] ^= 0x01
            #expect(Self.failure(SNPVerifier.verify(report: report, collateral: v.collateral, at: SNPVectors.during)) == .signature, "offset \(offset)")
        }
    }

    @Test("flipping any byte of the signed body fails, as a signature failure whenever it still parses", arguments: [true, false])
    func bodyFlips(useVCEK: Bool) throws {
        let v = useVCEK ? try Self.vcek() : try Self.vlek()
        let original = try SNPReport(parsing: v.report)
        for offset in 0..<SNPReport.signedLength {
            var report = v.report
            report[offset] ^= 0x01
            let check = Self.failure(SNPVerifier.verify(report: report, collateral: v.collateral, at: SNPVectors.during))
            // Still a report of the same signer and CPU family: only the signature can catch it.
            if let parsed = try? SNPReport(parsing: report), parsed.signingKey == original.signingKey,
                (parsed.cpuidFamily ?? 0x19) == 0x19
            {
                #expect(check == .signature, "offset \(offset)")
            } else {
                #expect(check == .malformedEvidence || check == .certificateChain, "offset \(offset)")
            }
        }
    }

    @Test("truncating the report at every length fails as malformed evidence")
    func truncations() throws {
        let v = try Self.vcek()
        for length in 0..<v.report.count {
            let result = SNPVerifier.verify(report: Array(v.report[..<length]), collateral: v.collateral, at: SNPVectors.during)
            #expect(Self.failure(result) == .malformedEvidence)
        }
    }

    @Test("flipping any byte of the VCEK, ASK or ARK breaks the chain", arguments: [0, 1, 2])
    func certificateFlips(index: Int) throws {
        let v = try Self.vcek()
        let chain = try AMDCertificate.certificates(pem: v.chainPEM)  // ASK, ARK
        let ders = [v.leaf, chain[0].der, chain[1].der]
        let target = ders[index]
        // Every byte of the leaf; every 3rd byte of the 1.6 kB RSA certificates keeps the suite fast
        // while still touching each of their fields.
        for offset in stride(from: 0, to: target.count, by: index == 0 ? 1 : 3) {
            var flipped = target
            flipped[offset] ^= 0x01
            var certificates = ders
            certificates[index] = flipped
            let collateral: SNPCollateral
            do {
                collateral = SNPCollateral(
                    leaf: try AMDCertificate(derEncoded: certificates[0]),
                    chain: [try AMDCertificate(derEncoded: certificates[1]), try AMDCertificate(derEncoded: certificates[2])])
            } catch {
                continue  // refused at decoding: the bundle would be malformed collateral
            }
            let check = Self.failure(SNPVerifier.verify(report: v.report, collateral: collateral, at: SNPVectors.during))
            #expect(check == .certificateChain, "certificate \(index) offset \(offset)")
        }
    }

    @Test("the VCEK against the ASVK chain, and the VLEK against the ASK chain, fail the chain")
    func swappedIntermediates() throws {
        let vcek = try Self.vcek(), vlek = try Self.vlek()
        let asvkAndARK = try AMDCertificate.certificates(pem: vlek.chainPEM).filter { $0.subjectCommonName != "SEV-Milan" }
        #expect(asvkAndARK.count == 2)
        let vcekOnASVK = SNPCollateral(leaf: vcek.collateral.leaf, chain: asvkAndARK)
        #expect(Self.failure(SNPVerifier.verify(report: vcek.report, collateral: vcekOnASVK, at: SNPVectors.during)) == .certificateChain)
        let vlekOnASK = SNPCollateral(leaf: vlek.collateral.leaf, chain: vcek.collateral.chain)
        #expect(Self.failure(SNPVerifier.verify(report: vlek.report, collateral: vlekOnASK, at: SNPVectors.during)) == .certificateChain)
        // The VCEK report with the VLEK certificate (and its full chain): wrong kind of signer.
        let wrongLeaf = SNPCollateral(leaf: vlek.collateral.leaf, chain: vlek.collateral.chain)
        #expect(Self.failure(SNPVerifier.verify(report: vcek.report, collateral: wrongLeaf, at: SNPVectors.during)) == .certificateChain)
    }

    @Test("an ARK that is not pinned fails the chain; passing it as trusted is the caller's choice")
    func unpinnedRoot() throws {
        let v = try Self.vcek()
        let other = AMDTrustAnchor(name: "ARK-Other", subjectPublicKeyInfoSHA256: [UInt8](repeating: 0xAB, count: 32))
        let result = SNPVerifier.verify(report: v.report, collateral: v.collateral, at: SNPVectors.during, trustedARKs: [other])
        #expect(Self.failure(result) == .certificateChain)
        let ark = try #require(v.collateral.chain.first { $0.subjectCommonName == "ARK-Milan" })
        #expect(ark.subjectPublicKeyInfoSHA256 == AMDTrustAnchor.milan.subjectPublicKeyInfoSHA256)
        let vlekARK = try #require(try Self.vlek().collateral.chain.first { $0.subjectCommonName == "ARK-Milan" })
        #expect(vlekARK.subjectPublicKeyInfoSHA256 == AMDTrustAnchor.milan.subjectPublicKeyInfoSHA256)
        #expect(Self.failure(SNPVerifier.verify(report: v.report, collateral: v.collateral, at: SNPVectors.during, trustedARKs: [other, AMDTrustAnchor(ark)])) == nil)
    }

    @Test("the JSON bundle accepts PEM or base64 DER leaves and names what is missing")
    func collateralJSON() throws {
        let v = try Self.vcek()
        let base64 = Data(v.leaf).base64EncodedString()
        let pem = "-----BEGIN CERTIFICATE-----\n" + Data(v.leaf).base64EncodedString(options: .lineLength64Characters) + "\n-----END CERTIFICATE-----\n"
        for leaf in [base64, pem] {
            let json = try JSONSerialization.data(withJSONObject: ["vcek": leaf, "cert_chain": v.chainPEM])
            #expect(try SNPCollateral(json: json) == v.collateral)
            #expect(Self.failure(SNPVerifier.verify(report: v.report, collateralJSON: json, at: SNPVectors.during)) == nil)
        }
        let missing = try JSONSerialization.data(withJSONObject: ["vcek": base64])
        #expect(Self.failure(SNPVerifier.verify(report: v.report, collateralJSON: missing, at: SNPVectors.during)) == .malformedCollateral)
        #expect(throws: SNPCollateralError.self) { try SNPCollateral(json: Data("{".utf8)) }
    }

    @Test("the VCEK's AMD extensions decode to the TCB and hwID the report carries")
    func vcekExtensions() throws {
        let v = try Self.vcek()
        let extensions = try EndorsementKeyExtensions(v.collateral.leaf)
        let report = try SNPReport(parsing: v.report)
        #expect(extensions.tcb == report.reportedTCB)
        #expect(extensions.hardwareID == report.chipID)
        #expect(extensions.productName == "Milan-B0")
        let vlek = try EndorsementKeyExtensions(try Self.vlek().collateral.leaf)
        #expect(vlek.tcb.microcode == 0xD9 && vlek.hardwareID == nil && vlek.cspID == "CN=cc-us-east-2.amazonaws.com")
    }
}

/// Decision 0020: a valid VCEK/VLEK proves which TCB the chip runs, not that it is current, so
/// the status comes from a caller-named minimum and is `NotEvaluated` without one.
@Suite("SEV-SNP TCB status against a minimum")
struct SNPTCBStatusTests {
    /// The four SPLs of `tcb` with `component` moved by `delta`.
    static func moved(_ tcb: SNPTCBVersion, _ component: Int, by delta: Int) -> SNPTCBVersion {
        var parts = [tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode].map(Int.init)
        parts[component] += delta
        return SNPTCBVersion(bootloader: UInt8(parts[0]), tee: UInt8(parts[1]), snp: UInt8(parts[2]), microcode: UInt8(parts[3]))
    }

    static func status(_ v: SNPVerifierTests.Vector, minimum: SNPTCBVersion?) throws -> TCBStatus? {
        try SNPVerifier.verify(report: v.report, collateral: v.collateral, at: SNPVectors.during,
                               options: SNPVerificationOptions(minimumTCB: minimum)).get().tcbStatus
    }

    @Test("no minimum: NotEvaluated, never UpToDate", arguments: ["vcek", "vlek"])
    func noMinimum(_ name: String) throws {
        let v = try name == "vcek" ? SNPVerifierTests.vcek() : SNPVerifierTests.vlek()
        #expect(try Self.status(v, minimum: nil) == .notEvaluated)
        let viaDispatch = try Verifier.verify(evidence: v.report, collateral: try Self.bundle(v), at: SNPVectors.during).get()
        #expect(viaDispatch.tcbStatus == .notEvaluated && viaDispatch.details["minimum_tcb"] == "none")
    }

    @Test("a minimum equal to or below REPORTED_TCB is UpToDate; one component above it is OutOfDate", arguments: ["vcek", "vlek"])
    func againstMinimum(_ name: String) throws {
        let v = try name == "vcek" ? SNPVerifierTests.vcek() : SNPVerifierTests.vlek()
        let reported = try SNPReport(parsing: v.report).reportedTCB
        #expect(try Self.status(v, minimum: reported) == .upToDate)
        #expect(try Self.status(v, minimum: SNPTCBVersion(bootloader: 0, tee: 0, snp: 0, microcode: 0)) == .upToDate)
        for component in 0..<4 {
            let parts = [reported.bootloader, reported.tee, reported.snp, reported.microcode]
            if parts[component] > 0 {
                #expect(try Self.status(v, minimum: Self.moved(reported, component, by: -1)) == .upToDate, "component \(component) below")
            }
            if parts[component] < 255 {
                #expect(try Self.status(v, minimum: Self.moved(reported, component, by: 1)) == .outOfDate, "component \(component) above")
            }
        }
        // Through the one entry point, as the broker and the CLI call it.
        let minimum = Self.moved(reported, 3, by: 1)
        let claims = try Verifier.verify(evidence: v.report, collateral: try Self.bundle(v), at: SNPVectors.during,
                                         snp: SNPVerificationOptions(minimumTCB: minimum)).get()
        #expect(claims.tcbStatus == .outOfDate && claims.details["minimum_tcb"] == minimum.description)
    }

    @Test("the VCEK vector's REPORTED_TCB is bootloader 2, tee 0, snp 5, microcode 68")
    func vcekComponents() throws {
        let v = try SNPVerifierTests.vcek()
        #expect(try Self.status(v, minimum: SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 68)) == .upToDate)
        #expect(try Self.status(v, minimum: SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 69)) == .outOfDate)
        #expect(try Self.status(v, minimum: SNPTCBVersion(bootloader: 2, tee: 1, snp: 5, microcode: 68)) == .outOfDate)
        #expect(try Self.status(v, minimum: SNPTCBVersion(bootloader: 3, tee: 0, snp: 0, microcode: 0)) == .outOfDate)
        #expect(try Self.status(v, minimum: SNPTCBVersion(bootloader: 0, tee: 0, snp: 6, microcode: 0)) == .outOfDate)
    }

    @Test("the component list parses only with all four components, each once, each 0 to 255")
    func parsing() throws {
        #expect(try SNPTCBVersion(parsingComponents: "bootloader=2,tee=0,snp=5,microcode=68") == SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 68))
        #expect(try SNPTCBVersion(parsingComponents: "microcode=68, snp=5, tee=0, bootloader=2") == SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 68))
        for bad in ["", "bootloader=2,tee=0,snp=5", "bootloader=2,tee=0,snp=5,microcode=256", "bootloader=2,tee=0,snp=5,microcode=-1",
                    "bootloader=2,tee=0,snp=5,microcode=1,tee=1", "bootloader=2,tee=0,snp=5,fmc=1", "bootloader=2,tee=0,snp=5,microcode"] {
            #expect(throws: VerificationFailure.self, "\(bad)") { try SNPTCBVersion(parsingComponents: bad) }
        }
    }

    @Test("Intel collateral cannot name Coffer's NotEvaluated")
    func notEvaluatedIsNotAnIntelStatus() throws {
        #expect(throws: VerificationFailure.self) { try CollateralDecoding.status("NotEvaluated", field: "f") }
        #expect(try CollateralDecoding.status("UpToDate", field: "f") == .upToDate)
    }

    static func bundle(_ v: SNPVerifierTests.Vector) throws -> Data {
        try JSONSerialization.data(withJSONObject: ["vcek": Data(v.leaf).base64EncodedString(), "cert_chain": v.chainPEM])
    }
}

@Suite("SEV-SNP checks in isolation")
struct SNPCheckTests {
    @Test("only AMD's RSA-PSS profile is accepted: Intel's ECDSA root is refused by algorithm")
    func otherAlgorithmRefused() throws {
        let intel = try Vectors.data("intel-sgx-root-ca.der")
        #expect {
            try AMDCertificate(derEncoded: Array(intel))
        } throws: { error in
            guard case AMDCertificateError.unsupportedSignatureAlgorithm = error else { return false }
            return true
        }
    }

    @Test("a REPORTED_TCB other than the certificate's, or a certificate above CURRENT_TCB, fails the TCB check")
    func tcbRules() throws {
        var report = try SNPReport(parsing: SNPVectors.bytes("milan-vcek-report.bin"))
        let certified = report.reportedTCB
        #expect(SNPVerifier.checkTCB(report, certified: certified) == nil)
        for (part, tcb) in [
            ("bootloader", SNPTCBVersion(bootloader: 3, tee: 0, snp: 5, microcode: 0x44)),
            ("tee", SNPTCBVersion(bootloader: 2, tee: 1, snp: 5, microcode: 0x44)),
            ("snp", SNPTCBVersion(bootloader: 2, tee: 0, snp: 4, microcode: 0x44)),
            ("microcode", SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 0x45)),
            ("reserved", SNPTCBVersion(raw: certified.raw | 1 << 16)),
        ] {
            report.reportedTCB = tcb
            #expect(SNPVerifier.checkTCB(report, certified: certified)?.check == .tcb, "\(part)")
        }
        report.reportedTCB = certified
        report.currentTCB = SNPTCBVersion(bootloader: 2, tee: 0, snp: 4, microcode: 0x44)
        #expect(SNPVerifier.checkTCB(report, certified: certified)?.check == .tcb)
    }

    @Test("non-zero padding above the 48-byte R or S fails the signature check")
    func signaturePadding() throws {
        let leaf = try AMDCertificate(derEncoded: SNPVectors.bytes("milan-vcek.der"))
        var report = try SNPReport(parsing: SNPVectors.bytes("milan-vcek-report.bin"))
        #expect(SNPVerifier.checkSignature(report, leaf: leaf) == nil)
        report.signatureS[71] = 1
        #expect(SNPVerifier.checkSignature(report, leaf: leaf)?.check == .signature)
    }
}
