import CofferKBSProtocol
import CofferCore
import Testing
import CofferJSON

/// The binding a client computes and the broker checks (the protocol module's, Foundation-free).
@Suite struct ReportDataBindingTests {
    let runtimeData = RuntimeData(nonce: "bm9uY2U=", teePubkey: .ec(crv: "P-256", alg: "ECDH-ES+A256KW", x: "x1", y: "y1"))

    /// Digests pinned from Python's hashlib over json.dumps(sort_keys, compact): an implementation
    /// independent of ours, as guest-components' canonicaliser produces for these ASCII values.
    @Test func materialAndDigestsMatchAnIndependentComputation() {
        let material = String(decoding: ReportDataBinding.material(runtimeData: runtimeData, additionalEvidence: ""), as: UTF8.self)
        #expect(material == #"{"additional-evidence":"","nonce":"bm9uY2U=","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"x1","y":"y1"}}"#)
        #expect(Hex.encode(ReportDataBinding.expected(runtimeData: runtimeData, additionalEvidence: "", hash: .sha384))
            == "729fd03799a73e85d87ac6f0f931edea13b5e712cb2514304276c246bd554d0e662ea90d14ccdf6e6f2dbb268ca22cc7")
        #expect(Hex.encode(ReportDataBinding.expected(runtimeData: runtimeData, additionalEvidence: "", hash: .sha256))
            == "e064177077ed044db46786478c6d87c66bde1080aa83b789441a436c1b8b3f69")
    }

    @Test func acceptsReportDataThatIsTheDigestZeroPadded() {
        let digest = ReportDataBinding.expected(runtimeData: runtimeData, additionalEvidence: "", hash: .sha384)
        #expect(ReportDataBinding.check(reportData: digest + [UInt8](repeating: 0, count: 16), runtimeData: runtimeData,
                                        additionalEvidence: "", hash: .sha384) == nil)
    }

    @Test func refusesOtherKeysNoncesAlgorithmsAndShortData() throws {
        let digest = ReportDataBinding.expected(runtimeData: runtimeData, additionalEvidence: "", hash: .sha384)
        var otherKey = runtimeData
        otherKey.teePubkey = .ec(crv: "P-256", alg: "ECDH-ES+A256KW", x: "x2", y: "y1")
        var otherNonce = runtimeData
        otherNonce.nonce = "other"
        for (data, rd, hash) in [(digest, otherKey, BindingHash.sha384), (digest, otherNonce, .sha384),
                                  (digest, runtimeData, .sha512), (Array(digest.prefix(40)), runtimeData, .sha384),
                                  (digest + [1] + [UInt8](repeating: 0, count: 15), runtimeData, .sha384)] {
            let denial = try #require(ReportDataBinding.check(reportData: data, runtimeData: rd, additionalEvidence: "", hash: hash))
            #expect(denial.claim == "report_data" && denial.actual == Hex.encode(data))
            #expect(denial.expected.hasSuffix(Hex.encode(ReportDataBinding.expected(runtimeData: rd, additionalEvidence: "", hash: hash))))
        }
        #expect(ReportDataBinding.check(reportData: digest, runtimeData: runtimeData, additionalEvidence: "x", hash: .sha384) != nil)
    }
}
