import Foundation
import Testing
import CofferTestSupport

/// `coffer attest verify` on the real vectors in ../shared/vectors, through the real executable.
@Suite struct AttestCLITests {
    let coffer = Repository.executable("coffer")

    struct Report: Decodable {
        struct Claims: Decodable {
            var tee: String
            var hardware_backed: Bool
            var tcb_status: String?
            var advisory_ids: [String]
            var measurements: [String: String]
            var report_data: String
            var details: [String: String]
        }
        struct Failure: Decodable { var check: String; var message: String }
        var verified: Bool
        var claims: Claims?
        var failure: Failure?
    }

    func verify(_ arguments: [String], home: String = "/nonexistent") throws -> (Int32, Report) {
        let result = try run(coffer, ["attest", "verify", "--format", "json"] + arguments, environment: ["COFFER_HOME": home])
        guard let report = try? JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8)) else {
            throw TestFailure("not a report (status \(result.status)): \(result.stdout) \(result.stderr)")
        }
        return (result.status, report)
    }

    func dcap(_ name: String, at: String) throws -> (Int32, Report) {
        try verify(["--evidence", try Vectors.path("\(name)/quote.bin"), "--collateral", try Vectors.path("\(name)/collateral.json"), "--at", at])
    }

    @Test func sgxVectorOutcomesAtEachTime() throws {
        let (status, ok) = try dcap("sgx-dcap", at: "1750600000")
        #expect(status == 0 && ok.verified)
        #expect(ok.claims?.tee == "sgx")
        #expect(ok.claims?.tcb_status == "ConfigurationAndSWHardeningNeeded")
        #expect(ok.claims?.advisory_ids == ["INTEL-SA-00289", "INTEL-SA-00615"])
        #expect(ok.claims?.details["qe_tcb_status"] == "UpToDate")
        #expect(ok.claims?.measurements["mr_enclave"] == "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb")
        #expect(ok.claims?.measurements["mr_signer"] == "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6")

        let (expiredStatus, expired) = try dcap("sgx-dcap", at: "1771500000")
        #expect(expiredStatus == 1 && !expired.verified)
        #expect(expired.failure?.check == "expired")
        #expect(expired.failure?.message.contains("TCB Info") == true)

        let (crlStatus, crl) = try dcap("sgx-dcap", at: "2026-09-21T14:13:20Z")  // 1790000000
        #expect(crlStatus == 1)
        #expect(crl.failure?.check == "expired")
        #expect(crl.failure?.message.contains("CRL") == true)
    }

    @Test func tdxVectorOutcomes() throws {
        let (status, ok) = try dcap("tdx-dcap", at: "1750600000")
        #expect(status == 0)
        #expect(ok.claims?.tee == "tdx" && ok.claims?.tcb_status == "UpToDate" && ok.claims?.advisory_ids == [])
        #expect(ok.claims?.measurements["mr_td"] == "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7")
        let (expiredStatus, expired) = try dcap("tdx-dcap", at: "1771500000")
        #expect(expiredStatus == 1 && expired.failure?.check == "expired")
    }

    @Test func snpVectorsWithVCEKAndVLEK() throws {
        let (vcekStatus, vcek) = try verify([
            "--evidence", try Vectors.path("snp/milan-vcek-report.bin"), "--vcek", try Vectors.path("snp/milan-vcek.der"),
            "--cert-chain", try Vectors.path("snp/milan-ask-ark.pem"), "--at", "2025-01-01T00:00:00Z",
        ])
        #expect(vcekStatus == 0 && vcek.claims?.tee == "snp" && vcek.claims?.details["signing_key"] == "vcek")
        let vlekArgs = ["--evidence", try Vectors.path("snp/milan-vlek-report.bin"), "--vcek", try Vectors.path("snp/milan-vlek.der"),
            "--cert-chain", try Vectors.path("snp/milan-ask-ark-asvk.pem")]
        let (vlekStatus, vlek) = try verify(vlekArgs + ["--at", "2025-06-01T00:00:00Z"])
        #expect(vlekStatus == 0 && vlek.claims?.details["signing_key"] == "vlek")
        let (lateStatus, late) = try verify(vlekArgs + ["--at", "2026-01-01T00:00:00Z"])
        #expect(lateStatus == 1 && late.failure?.check == "expired")
        // The VLEK report against a chain without the ASVK: nothing leads from the VLEK to the ARK.
        let (swapStatus, swapped) = try verify([
            "--evidence", try Vectors.path("snp/milan-vlek-report.bin"), "--vcek", try Vectors.path("snp/milan-vlek.der"),
            "--cert-chain", try Vectors.path("snp/milan-ask-ark.pem"), "--at", "2025-06-01T00:00:00Z",
        ])
        #expect(swapStatus == 1 && swapped.failure?.check == "certificate-chain")
    }

    /// Decision 0020: the SNP TCB status is NotEvaluated unless --snp-min-tcb names a minimum;
    /// REPORTED_TCB of the VCEK vector is bootloader 2, tee 0, snp 5, microcode 68.
    @Test func snpTCBStatusNeedsAMinimum() throws {
        let args = ["--evidence", try Vectors.path("snp/milan-vcek-report.bin"), "--vcek", try Vectors.path("snp/milan-vcek.der"),
                    "--cert-chain", try Vectors.path("snp/milan-ask-ark.pem"), "--at", "2025-01-01T00:00:00Z"]
        let (plainStatus, plain) = try verify(args)
        #expect(plainStatus == 0 && plain.claims?.tcb_status == "NotEvaluated")
        let text = try run(coffer, ["attest", "verify"] + args, environment: ["COFFER_HOME": "/nonexistent"])
        #expect(text.status == 0 && text.stdout.contains("NotEvaluated (not evaluated: no minimum TCB given; pass --snp-min-tcb"), "\(text.stdout)")
        let (equalStatus, equal) = try verify(args + ["--snp-min-tcb", "bootloader=2,tee=0,snp=5,microcode=68"])
        #expect(equalStatus == 0 && equal.claims?.tcb_status == "UpToDate")
        let (belowStatus, below) = try verify(args + ["--snp-min-tcb", "bootloader=1,tee=0,snp=4,microcode=60"])
        #expect(belowStatus == 0 && below.claims?.tcb_status == "UpToDate")
        let (aboveStatus, above) = try verify(args + ["--snp-min-tcb", "bootloader=2,tee=0,snp=5,microcode=69"])
        #expect(aboveStatus == 0 && above.claims?.tcb_status == "OutOfDate")
        let bad = try run(coffer, ["attest", "verify"] + args + ["--snp-min-tcb", "bootloader=2,tee=0"], environment: ["COFFER_HOME": "/nonexistent"])
        #expect(bad.status != 0 && bad.stderr.contains("--snp-min-tcb") && bad.stderr.contains("snp, microcode"), "\(bad.stderr)")
    }

    @Test func sampleEvidenceNeedsANamedSignerAndSaysItIsNotHardware() throws {
        let home = try TemporaryDirectory("home")
        let evidence = home.file("sample.bin")
        let made = try run(coffer, ["attest", "sample", "--measurement", String(repeating: "ab", count: 48), "--report-data", "0102", "-o", evidence],
            environment: ["COFFER_HOME": home.path])
        #expect(made.status == 0)
        #expect(made.stderr.contains("NOT hardware-backed"))
        let (refusedStatus, refused) = try verify(["--evidence", evidence])
        #expect(refusedStatus == 1 && refused.failure?.check == "certificate-chain", "no default accepts sample evidence")
        let (status, ok) = try verify(["--evidence", evidence, "--sample-signer", "\(home.path)/keys/launcher.pub"])
        #expect(status == 0)
        #expect(ok.claims?.hardware_backed == false && ok.claims?.tee == "sample")
        #expect(ok.claims?.report_data.hasPrefix("0102") == true)
        let text = try run(coffer, ["attest", "verify", "--evidence", evidence, "--sample-signer", "\(home.path)/keys/launcher.pub"])
        #expect(text.stdout.contains("WARNING: sample evidence: not hardware-backed"))
        // Another launcher's key is not this one.
        let other = try TemporaryDirectory("other")
        _ = try run(coffer, ["attest", "sample", "--measurement", "00", "-o", other.file("x.bin")], environment: ["COFFER_HOME": other.path])
        let (wrongStatus, wrong) = try verify(["--evidence", evidence, "--sample-signer", "\(other.path)/keys/launcher.pub"])
        #expect(wrongStatus == 1 && wrong.failure?.check == "certificate-chain")
    }

    @Test func badInputGetsOneClearLine() throws {
        let dir = try TemporaryDirectory("bad")
        let missing = try run(coffer, ["attest", "verify", "--evidence", "/nonexistent/quote.bin"])
        #expect(missing.status != 0 && missing.stderr == "coffer: cannot read /nonexistent/quote.bin\n")
        try dir.write("garbage.bin", "this is not a quote")
        let (status, garbage) = try verify(["--evidence", dir.file("garbage.bin")])
        #expect(status == 1 && garbage.failure?.check == "malformed-evidence")
        let badTime = try run(coffer, ["attest", "verify", "--evidence", dir.file("garbage.bin"), "--at", "yesterday"])
        #expect(badTime.status != 0 && badTime.stderr.hasPrefix("coffer: --at yesterday: expected Unix seconds"))
        try dir.write("bad.json", "{\"pck_crl\": 5}")
        let (collStatus, badCollateral) = try verify([
            "--evidence", try Vectors.path("sgx-dcap/quote.bin"), "--collateral", dir.file("bad.json"), "--at", "1750600000",
        ])
        #expect(collStatus == 1 && badCollateral.failure?.check == "malformed-collateral")
        let (noCollStatus, noCollateral) = try verify(["--evidence", try Vectors.path("sgx-dcap/quote.bin")])
        #expect(noCollStatus == 1 && noCollateral.failure?.message.contains("--collateral") == true)
    }
}
