import CofferTestSupport
import Foundation
import Testing

/// `coffer measure --tee sgx` and `coffer sgx sign` through the real executable, on the real
/// enclave of ../shared/vectors/sgx-enclave, with a policy checked by a real `coffer kbs serve`.
@Suite(.serialized) struct SGXCLITests {
    let coffer = Repository.executable("coffer")
    static let mrEnclave = "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc"
    static let mrSigner = "fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542"

    /// `coffer measure --tee sgx --format json`, decoded independently of the command's types.
    struct Report: Decodable {
        struct Signature: Decodable {
            var mrSigner: String
            var isvProdID: Int
            var isvSVN: Int
            var date: String
            var attributes: String
            var attributeMask: String
        }
        var tee: String
        var mrEnclave: String
        var measuredChunks: Int
        var sigstruct: Signature?
        var claims: [String: String]
    }

    func measure(_ home: TemporaryDirectory, _ arguments: [String]) throws -> CommandResult {
        try run(coffer, ["measure", "--tee", "sgx"] + arguments, environment: ["COFFER_HOME": home.path])
    }

    @Test func theVectorsIdentityInEveryFormat() throws {
        let home = try TemporaryDirectory("coffer-sgx-home")
        let enclave = try Vectors.path("sgx-enclave/test_enclave.sgxs"), sig = try Vectors.path("sgx-enclave/test_enclave.sig")
        // Options after ENCLAVE.sgxs (as the issue writes them) and before it give the same report.
        let after = try measure(home, [enclave, "--sigstruct", sig, "--format", "json"])
        let before = try measure(home, ["--format", "json", "--sigstruct", sig, enclave])
        #expect(after.status == 0 && after.stdout == before.stdout, "\(after.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(after.stdout.utf8))
        #expect(report.tee == "sgx" && report.mrEnclave == Self.mrEnclave && report.measuredChunks == 144)
        let signature = try #require(report.sigstruct)
        #expect(signature.mrSigner == Self.mrSigner && signature.isvProdID == 65535 && signature.isvSVN == 0 && signature.date == "2016-12-14")
        #expect(signature.attributes == "04000000000000000300000000000000" && signature.attributeMask == "fdffffffffffffff1bffffffffffffff")
        #expect(report.claims == ["mr_enclave": Self.mrEnclave, "mr_signer": Self.mrSigner, "isv_prod_id": "65535", "isv_svn": "0"])

        let text = try measure(home, [enclave, "--sigstruct", sig])
        #expect(text.status == 0 && text.stdout.contains("mr_enclave          \(Self.mrEnclave)\n"), "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("mr_signer           \(Self.mrSigner)\n") && text.stdout.contains("isv_prod_id         65535\n"))
        #expect(text.stdout.contains("date                2016-12-14\n") && text.stdout.contains("signature verifies"))
        let alone = try measure(home, [enclave])
        #expect(alone.status == 0 && alone.stdout.contains(Self.mrEnclave) && !alone.stdout.contains("mr_signer "), "\(alone.stderr)")
    }

    @Test func aTamperedEnclaveOrSigStructIsAnErrorNamingWhatIsWrong() throws {
        let home = try TemporaryDirectory("coffer-sgx-tamper")
        let enclave = try Vectors.bytes("sgx-enclave/test_enclave.sgxs"), sig = try Vectors.path("sgx-enclave/test_enclave.sig")
        var tampered = enclave
        tampered[tampered.count - 1] ^= 1
        let changed = try home.write("changed.sgxs", "")
        try Data(tampered).write(to: URL(fileURLWithPath: changed))
        let mismatch = try measure(home, [changed, "--sigstruct", sig])
        #expect(mismatch.status == 1 && mismatch.stdout.isEmpty, "\(mismatch.stdout)")
        #expect(mismatch.stderr.hasPrefix("coffer: SIGSTRUCT ENCLAVEHASH \(Self.mrEnclave) is not the enclave's MRENCLAVE "), "\(mismatch.stderr)")

        var badSig = try Vectors.bytes("sgx-enclave/test_enclave.sig")
        badSig[20] ^= 1  // DATE, in the signed header
        let forged = home.file("forged.sig")
        try Data(badSig).write(to: URL(fileURLWithPath: forged))
        let refused = try measure(home, [try Vectors.path("sgx-enclave/test_enclave.sgxs"), "--sigstruct", forged, "--format", "policy"])
        #expect(refused.status == 1 && refused.stdout.isEmpty && refused.stderr.contains("SIGSTRUCT signature does not verify"), "\(refused.stderr)")

        let cut = home.file("cut.sgxs")
        try Data(enclave.prefix(1000)).write(to: URL(fileURLWithPath: cut))
        let truncated = try measure(home, [cut])
        #expect(truncated.status == 1 && truncated.stderr.contains("SGXS stream truncated at record["), "\(truncated.stderr)")
        let missing = try measure(home, [home.file("absent.sgxs")])
        #expect(missing.status == 2 && missing.stderr.contains("absent.sgxs: cannot be read"), "\(missing.stderr)")
        let unknown = try measure(home, [cut, "--bogus"])
        #expect(unknown.status == 1 && unknown.stderr.contains("--bogus"), "\(unknown.stderr)")
    }

    /// `coffer sgx sign` with an openssl key: the file verifies under `coffer measure` and under the
    /// independent Python reference (CofferVerifierTests' `referenceCheck`, repeated here in short).
    @Test func signThenMeasure() throws {
        let home = try TemporaryDirectory("coffer-sgx-sign")
        let key = home.file("owner.pem")
        try sh("openssl genrsa -3 -out \(key) 3072 2>/dev/null")
        let modulus = String(try sh("openssl rsa -in \(key) -noout -modulus").trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("Modulus=".count))
        let enclave = try Vectors.path("sgx-enclave/test_enclave.sgxs")
        let out = home.file("owner.sig")
        let signed = try run(coffer, ["sgx", "sign", enclave, "--key", key, "--out", out, "--isvprodid", "42", "--isvsvn", "3", "--date", "20261203"])
        #expect(signed.status == 0 && signed.stdout.hasPrefix("mr_enclave  \(Self.mrEnclave)\nmr_signer   "), "\(signed.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(try measure(home, [enclave, "--sigstruct", out, "--format", "json"]).stdout.utf8))
        let signature = try #require(report.sigstruct)
        #expect(signature.isvProdID == 42 && signature.isvSVN == 3 && signature.date == "2026-12-03" && signature.mrSigner != Self.mrSigner)
        #expect(signed.stdout.contains("mr_signer   \(signature.mrSigner)\n"))
        let python = """
            import hashlib, sys
            d = open(sys.argv[1], 'rb').read(); le = lambda b: int.from_bytes(b, 'little')
            n, s = le(d[128:512]), le(d[516:900]); assert n == int(sys.argv[2], 16) and le(d[512:516]) == 3
            info = bytes.fromhex('3031300d060960864801650304020105000420') + hashlib.sha256(d[0:128] + d[900:1028]).digest()
            assert pow(s, 3, n).to_bytes(384, 'big') == b'\\x00\\x01' + b'\\xff' * (381 - len(info)) + b'\\x00' + info
            q1 = s * s // n; assert le(d[1040:1424]) == q1 and le(d[1424:1808]) == (s ** 3 - q1 * s * n) // n
            print(hashlib.sha256(d[128:512]).hexdigest())
            """
        let reference = try run("python3", ["-c", python, out, modulus])
        #expect(reference.status == 0 && reference.stdout == "\(signature.mrSigner)\n", "\(reference.stderr)")

        // Refused keys, bad options; the output is left as it was.
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let wrong = home.file("wrong.pem")
        try sh("openssl genrsa -out \(wrong) 2048 2>/dev/null")
        let refused = try run(coffer, ["sgx", "sign", enclave, "--key", wrong, "--out", out])
        #expect(refused.status == 1 && refused.stderr.contains("RSA-2048: SGX requires RSA-3072"), "\(refused.stderr)")
        let date = try run(coffer, ["sgx", "sign", enclave, "--key", key, "--out", out, "--date", "20261332"])
        #expect(date.status == 1 && date.stderr.contains("--date 20261332"), "\(date.stderr)")
        let attributes = try run(coffer, ["sgx", "sign", enclave, "--key", key, "--out", out, "--attributes", "04"])
        #expect(attributes.status == 1 && attributes.stderr.contains("--attributes 04: expected 32 hex digits"), "\(attributes.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before)
    }

    /// The policy, set on a real broker: accepted. No quote of this enclave exists, so the broker's
    /// SGX rules are exercised with a real quote of another enclave (the sgx-dcap vector) through
    /// `appraise`: the document with that quote's values admits it, and with any one of this
    /// enclave's values (`isv_svn` is 0 in both) it is denied on that claim, expecting exactly the
    /// value `measure` printed. So the claim names and value forms are the broker's.
    @Test func thePolicyIsAcceptedAndEnforcedByARealBroker() throws {
        let home = try TemporaryDirectory("coffer-sgx-policy")
        let broker = try LoopbackBroker(coffer: coffer, home: home.path)
        let enclave = try Vectors.path("sgx-enclave/test_enclave.sgxs"), sig = try Vectors.path("sgx-enclave/test_enclave.sig")
        let policy = try measure(home, [enclave, "--sigstruct", sig, "--format", "policy", "--sgx-resource", "owner/enclave/key"])
        #expect(policy.status == 0, "\(policy.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(policy.stdout.utf8)) as? [String: Any])
        let attestation = try #require((document["attestation"] as? [String: Any])?["tees"] as? [String: Any])
        let entry = try #require(attestation["sgx"] as? [String: Any])
        let reference = try #require(entry["reference_values"] as? [String: [String]])
        #expect(reference == ["mr_enclave": [Self.mrEnclave], "mr_signer": [Self.mrSigner], "isv_prod_id": ["65535"], "isv_svn": ["0"]])
        let rules = try #require((document["resource"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.count == 1 && rules[0]["resources"] as? [String] == ["owner/enclave/key"] && rules[0]["tees"] as? [String] == ["sgx"])
        #expect(rules[0]["measurements"] as? [String: [String]] == ["mr_enclave": [Self.mrEnclave], "mr_signer": [Self.mrSigner]])

        let file = try home.write("policy.json", policy.stdout)
        let set = try broker.adminCommand(["set-policy", "--file", file])
        #expect(set.status == 0 && set.stdout == "attestation policy set\nresource policy set\n", "\(set.stderr)")

        // The sgx-dcap quote's platform is ConfigurationAndSWHardeningNeeded with two advisories
        // (vectors README): accept those, so that the check reaching the enclave's values decides.
        func relaxed(_ values: [String: [String]]) throws -> String {
            var sgx = entry
            sgx["reference_values"] = values
            sgx["tcb_statuses"] = ["ConfigurationAndSWHardeningNeeded"]
            sgx["allowed_advisory_ids"] = ["INTEL-SA-00289", "INTEL-SA-00615"]
            let data = try JSONSerialization.data(withJSONObject: ["attestation": ["tees": ["sgx": sgx]], "resource": document["resource"] ?? [:]])
            return try home.write("relaxed.json", String(decoding: data, as: UTF8.self))
        }
        func appraise() throws -> CommandResult {
            try broker.adminCommand(["appraise", "--tee", "sgx", "--evidence", try Vectors.path("sgx-dcap/quote.bin"),
                                     "--collateral", try Vectors.path("sgx-dcap/collateral.json"), "--time", "1750600000"])
        }
        // The quote's own values (vectors README, sgx-dcap) admit it; with any one claim replaced by
        // this enclave's value (as the policy names it), the broker denies on that claim.
        let quoteValues = ["mr_enclave": ["33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"],
                           "mr_signer": ["815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6"], "isv_prod_id": ["0"], "isv_svn": ["0"]]
        for claim in ["mr_enclave", "mr_signer", "isv_prod_id"] {
            var values = quoteValues
            values[claim] = reference[claim]
            try broker.admin(["set-policy", "--file", try relaxed(values)])
            let denied = try appraise()
            let expected = try #require(reference[claim]?.first), actual = try #require(quoteValues[claim]?.first)
            #expect(denied.status == 1 && denied.stdout.contains("claim   \(claim)\nexpected \(expected)\nactual  \(actual)\n"),
                    "\(denied.stdout)\(denied.stderr)")
        }
        try broker.admin(["set-policy", "--file", try relaxed(quoteValues)])
        let allowed = try appraise()
        #expect(allowed.status == 0 && allowed.stdout.hasPrefix("result  allowed"), "\(allowed.stdout)\(allowed.stderr)")
    }
}
