import CofferCore
import CofferEvidence
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509
@testable import CofferVerifier
import CofferJSON

/// Truncation, foreign roots, verification times outside each window, and malformed collateral.
@Suite struct DCAPBoundaryTests {
    static let vectors = ["sgx-dcap", "tdx-dcap"]

    /// Every prefix of a quote must be refused; only the TDX vector's trailing bytes after the
    /// signature data (70 unused bytes the reference also ignores) may be cut without effect.
    @Test(arguments: vectors)
    func truncationAtEveryLength(vector: String) throws {
        let quote = try DCAPVectors.quote(vector)
        let collateral = try DCAPVectors.collateral(vector)
        let signedEnd: Int
        switch try DCAPQuote(bytes: quote).body {
        case .sgx: signedEnd = quote.count
        case .tdx: signedEnd = 48 + 584 + 4 + 4300
        }
        for length in 0..<quote.count {
            let prefix = Array(quote[0..<length])
            let result = DCAPVectors.verify(prefix, collateral)
            if length < signedEnd {
                #expect(DCAPVectors.failure(result)?.check == .malformedEvidence, "length \(length)")
            } else {
                #expect((try? result.get()) != nil, "length \(length) keeps the whole signature data")
            }
        }
    }

    @Test func truncationErrorsNameTheField() throws {
        let quote = try DCAPVectors.quote("sgx-dcap")
        #expect(throws: IntelQuoteError.self) { try SGXQuote(bytes: Array(quote[0..<100])) }
        do throws(IntelQuoteError) {
            _ = try SGXQuote(bytes: Array(quote[0..<100]))
        } catch {
            guard case .truncated(let truncated) = error else {
                Issue.record("expected truncation, got \(error)")
                return
            }
            #expect(truncated.field == "report_body.attributes")
        }
        let tdxPrefix = Array(try DCAPVectors.quote("tdx-dcap")[0..<700])
        do throws(IntelQuoteError) {
            _ = try TDXQuote(bytes: tdxPrefix)
            Issue.record("a 700-byte TDX prefix parsed")
        } catch {
            #expect(error == .badValue(field: "signature_data_len", detail: "4300 bytes declared, 64 remain in the quote"))
        }
    }

    /// A v5 quote made from the v4 vector (body type 2, size 584 inserted after the header) parses
    /// to the same TD report and signature data, and then fails only at the quote signature.
    @Test func tdxV5Layout() throws {
        let v4 = try DCAPVectors.quote("tdx-dcap")
        var writer = ByteWriter()
        writer.writeUInt16LE(5)
        writer.write(v4[2..<48])
        writer.writeUInt16LE(2)
        writer.writeUInt32LE(584)
        writer.write(v4[48...])
        let parsedV4 = try TDXQuote(bytes: v4), parsedV5 = try TDXQuote(bytes: writer.bytes)
        #expect(parsedV5.body == parsedV4.body)
        #expect(parsedV5.signatureData == parsedV4.signatureData)
        #expect(parsedV5.signedBytes.count == 48 + 6 + 584)
        #expect(EvidenceKind.detectIntelQuote(writer.bytes) == .tdxQuoteV5)
        let failure = DCAPVectors.failure(DCAPVectors.verify(writer.bytes, try DCAPVectors.collateral("tdx-dcap")))
        #expect(failure?.check == .signature)
        #expect(failure?.message.contains("quote signature") == true)

        // Body type 3 (TD report 1.5): 64 more bytes; type/size mismatch is refused by name.
        var v15 = ByteWriter()
        v15.writeUInt16LE(5)
        v15.write(v4[2..<48])
        v15.writeUInt16LE(3)
        v15.writeUInt32LE(648)
        v15.write(v4[48..<(48 + 584)])
        v15.write([UInt8](repeating: 0xab, count: 16) + [UInt8](repeating: 0xcd, count: 48))
        v15.write(v4[(48 + 584)...])
        let parsed15 = try TDXQuote(bytes: v15.bytes)
        guard case .v15(let report) = parsed15.body else {
            Issue.record("expected a TD report 1.5")
            return
        }
        #expect(report.teeTCBSVN2 == [UInt8](repeating: 0xab, count: 16))
        #expect(report.mrServiceTD == [UInt8](repeating: 0xcd, count: 48))
        var wrongSize = v15.bytes
        wrongSize[50] = 0x49
        #expect(throws: IntelQuoteError.self) { try TDXQuote(bytes: wrongSize) }
    }

    static func selfSignedRoot(subject: DistinguishedName) throws -> Certificate {
        let key = P256.Signing.PrivateKey()
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date(timeIntervalSince1970: 1_500_000_000), notValidAfter: Date(timeIntervalSince1970: 2_500_000_000),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: .init(key))
    }

    /// Another root, whether it has its own name or copies Intel's, must not anchor Intel's chains.
    @Test(arguments: vectors)
    func swappedRoot(vector: String) throws {
        let intel = try IntelSGXRootCA.certificate()
        let roots = [
            try Self.selfSignedRoot(subject: try DistinguishedName { CommonName("Coffer Test Root") }),
            try Self.selfSignedRoot(subject: intel.subject),
        ]
        for root in roots {
            let result = DCAPVerifier.verify(
                quote: try DCAPVectors.quote(vector), collateral: try DCAPVectors.collateral(vector),
                at: DCAPVectors.validTime, trustedRoot: root)
            #expect(DCAPVectors.failure(result)?.check == .certificateChain, "\(root.subject)")
        }
        // And the real root passed explicitly still verifies.
        let result = DCAPVerifier.verify(
            quote: try DCAPVectors.quote(vector), collateral: try DCAPVectors.collateral(vector),
            at: DCAPVectors.validTime, trustedRoot: intel)
        #expect((try? result.get()) != nil)
    }

    /// Each window, moved outside on its own, fails as `.expired` naming the item.
    @Test(arguments: [
        ("sgx-dcap", 1_750_300_000, "TCB Info is not yet valid"),           // 2025-06-19 02:26, before issueDate
        ("sgx-dcap", 1_752_921_000, "QE Identity expired"),                 // 2025-07-19 10:30
        ("tdx-dcap", 1_752_919_500, "PCK CRL (pck_crl) expired"),           // 2025-07-19 10:05
        ("tdx-dcap", 1_752_920_400, "TCB Info expired"),                    // 2025-07-19 10:20
        ("sgx-dcap", 1_700_000_000, "TCB Info signer (tcb_info_issuer_chain): certificate"), // 2023-11, signer from 2025-05
        ("sgx-dcap", 2_019_686_400, "PCK certificate chain: certificate"),  // 2034: PCK CA expired
        ("tdx-dcap", 1_500_000_000, "PCK certificate chain: certificate"),  // 2017: nothing valid yet
    ])
    func windows(vector: String, time: Int, item: String) throws {
        let failure = DCAPVectors.failure(DCAPVectors.verify(
            try DCAPVectors.quote(vector), try DCAPVectors.collateral(vector), at: Date(timeIntervalSince1970: TimeInterval(time))))
        #expect(failure?.check == .expired)
        #expect(failure?.message.hasPrefix(item) == true, "\(String(describing: failure))")
    }

    @Test func malformedCollateralNamesTheField() throws {
        let json = try DCAPVectors.collateralJSON("sgx-dcap")
        do throws(VerificationFailure) {
            _ = try DCAPCollateral(json: Data("{".utf8))
            Issue.record("\"{\" accepted as collateral")
        } catch {
            #expect(error.check == .malformedCollateral)
        }
        let object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        for key in ["pck_crl_issuer_chain", "root_ca_crl", "pck_crl", "tcb_info_issuer_chain", "tcb_info",
                    "tcb_info_signature", "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature"] {
            var missing = object
            missing[key] = nil
            var garbled = object
            garbled[key] = "zz"
            for broken in [missing, garbled] {
                let data = try JSONSerialization.data(withJSONObject: broken)
                do throws(VerificationFailure) {
                    _ = try DCAPCollateral(json: data)
                    Issue.record("\(key): accepted")
                } catch {
                    #expect(error.check == .malformedCollateral)
                    #expect(error.message.contains(key), "\(key): \(error.message)")
                }
            }
        }
        let badLevel = try DCAPVectors.collateralJSON("sgx-dcap")
        var edited = try JSONSerialization.jsonObject(with: badLevel) as! [String: Any]
        edited["tcb_info"] = (edited["tcb_info"] as! String).replacingOccurrences(of: "\"pcesvn\":13", with: "\"pcesvn\":\"x\"")
        #expect(throws: VerificationFailure.self) { try DCAPCollateral(json: try JSONSerialization.data(withJSONObject: edited)) }
    }

    @Test func collateralForTheWrongTEEIsRefused() throws {
        let failure = DCAPVectors.failure(DCAPVectors.verify(try DCAPVectors.quote("sgx-dcap"), try DCAPVectors.collateral("tdx-dcap")))
        #expect(failure?.check == .collateralSignature, "\(String(describing: failure))")
        #expect(failure?.message == "TCB Info is TDX v3, but the quote is SGX")
    }
}
