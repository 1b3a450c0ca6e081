import CofferCore
import CofferEvidence
import Foundation
import SwiftASN1
import Testing
import X509
@testable import CofferVerifier

/// Every outcome ../shared/vectors/README.md lists for the SGX and TDX vectors, exactly.
@Suite struct DCAPOutcomeTests {
    @Test func sgxVerifiesWithStatusAdvisoriesAndClaims() throws {
        let claims = try DCAPVectors.verify(try DCAPVectors.quote("sgx-dcap"), try DCAPVectors.collateral("sgx-dcap")).get()
        #expect(claims.tee == .sgx)
        #expect(claims.hardwareBacked)
        #expect(claims.tcbStatus == .configurationAndSWHardeningNeeded)
        #expect(claims.advisoryIDs == ["INTEL-SA-00289", "INTEL-SA-00615"])
        #expect(claims.details["qe_tcb_status"] == "UpToDate")
        #expect(claims.details["quote_version"] == "3")
        #expect(claims.details["ppid"] == "d04ec06d4e6d92dc90d0ad3cf5ee2ddf")
        #expect(claims.measurements["mr_enclave"] == "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb")
        #expect(claims.measurements["mr_signer"] == "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6")
        #expect(claims.measurements["isv_prod_id"] == "0")
        #expect(claims.measurements["isv_svn"] == "0")
        #expect(claims.measurements["attributes"] == "0500000000000000e700000000000000")
        #expect(claims.measurements["cpu_svn"] == "0b0b1a18ffff04000000000000000000")
        let hello = Hex.encode(Array("Hello, world!".utf8))
        #expect(claims.reportData == hello + String(repeating: "0", count: 128 - hello.count))
    }

    @Test func tdxVerifiesWithStatusAndClaims() throws {
        let claims = try DCAPVectors.verify(try DCAPVectors.quote("tdx-dcap"), try DCAPVectors.collateral("tdx-dcap")).get()
        let zero48 = String(repeating: "0", count: 96)
        #expect(claims.tee == .tdx)
        #expect(claims.hardwareBacked)
        #expect(claims.tcbStatus == .upToDate)
        #expect(claims.advisoryIDs == [])
        #expect(claims.details["qe_tcb_status"] == "UpToDate")
        #expect(claims.details["quote_version"] == "4")
        #expect(claims.details["ppid"] == "811dca2a26b952e85bb6448b097ba4fd")
        #expect(claims.measurements["mr_td"] == "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7")
        #expect(claims.measurements["rtmr0"] == "44c0197b39157fdd7a4dcc44767f9d6b0bb3977c7a8e347b8492f827fe9d9e5c48aca29b220b80b6a540cf994b9bc9c0")
        #expect(claims.measurements["rtmr1"] == "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378")
        #expect(claims.measurements["rtmr2"] == "d833feef2cd945148aa38ead2c53e9b7f138190aaaebfc551dccd829fc207aa3ba80b70870d7330733642e01d48c3132")
        #expect(claims.measurements["rtmr3"] == zero48)
        #expect(claims.measurements["mr_config_id"] == zero48)
        #expect(claims.measurements["mr_owner"] == zero48)
        #expect(claims.measurements["mr_owner_config"] == zero48)
        #expect(claims.measurements["mr_seam"] == "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1")
        #expect(claims.measurements["td_attributes"] == "0000001000000000")
        #expect(claims.measurements["xfam"] == "e702060000000000")
        #expect(claims.measurements["tee_tcb_svn"] == "06010300000000000000000000000000")
        #expect(claims.reportData == "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20")
    }

    @Test(arguments: ["sgx-dcap", "tdx-dcap"])
    func tcbInfoExpiredAt1771500000(vector: String) throws {
        let failure = DCAPVectors.failure(DCAPVectors.verify(
            try DCAPVectors.quote(vector), try DCAPVectors.collateral(vector), at: Date(timeIntervalSince1970: 1_771_500_000)))
        #expect(failure?.check == .expired)
        #expect(failure?.message.hasPrefix("TCB Info expired") == true)
    }

    /// The README calls this the "PCK CRL"; the next update it quotes, 1775215317, is the root CA
    /// CRL's (the bundle's pck_crl is due 2025-07-19): it is the first CRL the reference checks.
    @Test func crlExpiredAt1790000000() throws {
        let failure = DCAPVectors.failure(DCAPVectors.verify(
            try DCAPVectors.quote("sgx-dcap"), try DCAPVectors.collateral("sgx-dcap"), at: Date(timeIntervalSince1970: 1_790_000_000)))
        #expect(failure?.check == .expired)
        #expect(failure?.message.contains("CRL") == true)
        #expect(failure?.message.contains("1775215317") == true)
    }

    @Test func detectsIntelQuotes() throws {
        #expect(EvidenceKind.detectIntelQuote(try DCAPVectors.quote("sgx-dcap")) == .sgxQuoteV3)
        #expect(EvidenceKind.detectIntelQuote(try DCAPVectors.quote("tdx-dcap")) == .tdxQuoteV4)
        #expect(EvidenceKind.detectIntelQuote(try DCAPVectors.bytes("snp/milan-vcek-report.bin")) == nil)
        #expect(EvidenceKind.detectIntelQuote([]) == nil)
    }

    @Test func pinnedRootIsTheVectorsRoot() throws {
        let embedded = try IntelSGXRootCA.certificate()
        let file = try DCAPVectors.bytes("intel-sgx-root-ca.der")
        var serializer = DER.Serializer()
        try serializer.serialize(embedded)
        #expect(serializer.serializedBytes == file)
    }
}
