@testable import CofferKBS
import CofferCore
import CofferTestSupport
import CofferVerifier
import Crypto
import Foundation
import Testing

/// The init-data binding of protocol 0.4.0 (trustee kbs/docs/initdata.md): the digest of the
/// body, by its own `algorithm`, regularised to the TEE's field, must equal that field.
@Suite struct InitDataBindingTests {
    static let toml = """
        algorithm = "sha256"
        version = "0.1.0"

        [data]
        "policy.rego" = '''
        package agent_policy
        algorithm = "sha512"
        '''
        """

    @Test func theDigestFollowsTheTopLevelAlgorithmOverTheExactBody() throws {
        let digest = try InitDataBinding.digest(InitData(format: "toml", body: Self.toml))
        #expect(digest == Array(SHA256.hash(data: Array(Self.toml.utf8))))
        let json = #"{"version":"0.1.0","algorithm":"sha512","data":{}}"#
        #expect(try InitDataBinding.digest(InitData(format: "json", body: json)) == Array(SHA512.hash(data: Array(json.utf8))))
        // The TOML is read by InitDataDocument, the guest's reader: comments allowed, the
        // algorithm only at the top level, unknown keys refused.
        let commented = "version = \"0.1.0\"\nalgorithm = 'sha384' # comment\n"
        #expect(try InitDataBinding.digest(InitData(format: "toml", body: commented)) == Array(SHA384.hash(data: Array(commented.utf8))))
        for bad in [InitData(format: "yaml", body: Self.toml), InitData(format: "toml", body: "version = \"0.1.0\""),
                    InitData(format: "toml", body: "version = \"0.1.0\"\n[data]\nalgorithm = \"sha384\"\n"),
                    InitData(format: "toml", body: "version = \"0.1.0\"\nalgorithm = \"sha384\"\nextra = \"x\"\n"),
                    InitData(format: "toml", body: "version = \"0.1.0\"\nalgorithm = \"sm3\""), InitData(format: "json", body: "{")] {
            let failure = #expect(throws: KBSFailure.self) { try InitDataBinding.digest(bad) }
            #expect(failure?.status == 400)
        }
    }

    func claims(_ tee: TEEType, _ field: String, _ value: [UInt8]) -> Claims {
        Claims(tee: tee, hardwareBacked: tee != .sample, tcbStatus: nil, advisoryIDs: [], measurements: [field: Hex.encode(value)], reportData: "")
    }

    @Test(arguments: [(TEEType.tdx, "mr_config_id", 48), (.sgx, "config_id", 64), (.snp, "host_data", 32), (.sample, "host_data", 32)])
    func theDigestIsPaddedOrTruncatedToTheTEEsField(tee: TEEType, field: String, length: Int) throws {
        let initData = InitData(format: "toml", body: Self.toml)
        let digest = Array(SHA256.hash(data: Array(Self.toml.utf8)))
        let regularised = length >= 32 ? digest + [UInt8](repeating: 0, count: length - 32) : Array(digest.prefix(length))
        #expect(try InitDataBinding.check(initData, claims: claims(tee, field, regularised)) == nil)
        var other = regularised
        other[0] ^= 1
        let denial = try #require(try InitDataBinding.check(initData, claims: claims(tee, field, other)))
        #expect(denial.claim == field && denial.expected == Hex.encode(regularised) && denial.actual == Hex.encode(other))
    }

    /// A real TDX quote (its MRCONFIGID is what its host set) with an init-data it was not
    /// launched with: verification and policy pass, the binding refuses naming mr_config_id.
    @Test func aRealTDXQuoteRefusesInitDataItWasNotLaunchedWith() throws {
        let mrTD = "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"
        let policy = AttestationPolicy(tees: ["tdx": TEEAttestationPolicy(referenceValues: ["mr_td": [mrTD]])])
        let valid = Date(timeIntervalSince1970: 1_750_600_000)
        let primary = try VectorPolicyTests.primary("tdx-dcap")
        let claims = try KeyBroker.appraise(tee: .tdx, primaryEvidence: primary, policy: policy, configuration: KBSConfiguration(), at: valid).get()
        let initData = InitData(format: "toml", body: Self.toml)
        guard case .failure(let failure) = KeyBroker.appraise(tee: .tdx, primaryEvidence: primary, initData: initData, policy: policy,
                                                              configuration: KBSConfiguration(), at: valid) else {
            Issue.record("init-data not bound to MRCONFIGID passed"); return
        }
        #expect(failure.status == 401 && failure.denial?.claim == "mr_config_id")
        #expect(failure.denial?.actual == claims.measurements["mr_config_id"])
    }
}
