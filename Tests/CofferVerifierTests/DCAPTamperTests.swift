import CofferCore
import CofferEvidence
import Crypto
import Foundation
import Testing
import X509
@testable import CofferVerifier

/// Single-byte changes to each signed or signing part of real quotes and collateral: each must be
/// caught by the check that guards it, never pass and never crash.
@Suite struct DCAPTamperTests {
    /// Byte offsets of the quote parts, from the layout tables (SGX v3 and TDX v4 of the vectors).
    struct Layout {
        var name: String
        var body: Int
        var signature: Int
        var qeReport: Int
        var qeReportSignature: Int { qeReport + 384 }

        static let sgx = Layout(name: "sgx-dcap", body: 48, signature: 48 + 384 + 4, qeReport: 48 + 384 + 4 + 128)
        static let tdx = Layout(name: "tdx-dcap", body: 48, signature: 48 + 584 + 4, qeReport: 48 + 584 + 4 + 128 + 6)
    }

    static let layouts = [Layout.sgx, Layout.tdx]

    func failure(_ layout: Layout, flipping offset: Int) throws -> VerificationFailure? {
        var quote = try DCAPVectors.quote(layout.name)
        quote[offset] ^= 0x01
        return DCAPVectors.failure(DCAPVectors.verify(quote, try DCAPVectors.collateral(layout.name)))
    }

    @Test(arguments: layouts)
    func quoteSignature(layout: Layout) throws {
        for offset in [layout.signature, layout.signature + 31, layout.signature + 32, layout.signature + 63] {
            let failure = try failure(layout, flipping: offset)
            #expect(failure?.check == .signature, "offset \(offset): \(String(describing: failure))")
            #expect(failure?.message.contains("quote signature") == true)
        }
    }

    @Test(arguments: layouts)
    func reportBody(layout: Layout) throws {
        // Into MRENCLAVE / MRTD, ISV SVN region, and the last REPORTDATA byte.
        let bodyEnd = layout.signature - 4
        for offset in [layout.body + 70, layout.body + 200, bodyEnd - 1] {
            let failure = try failure(layout, flipping: offset)
            #expect(failure?.check == .signature, "offset \(offset): \(String(describing: failure))")
            #expect(failure?.message.contains("quote signature") == true)
        }
    }

    @Test(arguments: layouts)
    func header(layout: Layout) throws {
        // The user data field of the header is signed too.
        let failure = try failure(layout, flipping: 40)
        #expect(failure?.check == .signature)
    }

    @Test(arguments: layouts)
    func attestationKey(layout: Layout) throws {
        let failure = try failure(layout, flipping: layout.signature + 64 + 10)
        #expect(failure?.check == .signature, "\(String(describing: failure))")
    }

    @Test(arguments: layouts)
    func qeReport(layout: Layout) throws {
        for offset in [layout.qeReport, layout.qeReport + 128, layout.qeReport + 383] {
            let failure = try failure(layout, flipping: offset)
            #expect(failure?.check == .signature, "offset \(offset): \(String(describing: failure))")
            #expect(failure?.message.contains("QE report signature") == true)
        }
    }

    @Test(arguments: layouts)
    func qeReportSignature(layout: Layout) throws {
        for offset in [layout.qeReportSignature, layout.qeReportSignature + 40] {
            let failure = try failure(layout, flipping: offset)
            #expect(failure?.check == .signature, "offset \(offset): \(String(describing: failure))")
            #expect(failure?.message.contains("QE report signature") == true)
        }
    }

    @Test(arguments: layouts)
    func qeAuthData(layout: Layout) throws {
        // The auth data is bound through the QE report data hash.
        let failure = try failure(layout, flipping: layout.qeReportSignature + 64 + 2 + 5)
        #expect(failure?.check == .signature)
        #expect(failure?.message.contains("QE report data") == true)
    }

    /// Changes one base64 character of the PCK leaf certificate (so one DER byte) at several places.
    @Test(arguments: layouts)
    func pckCertificate(layout: Layout) throws {
        let original = try DCAPVectors.quote(layout.name)
        let marker = Array("-----BEGIN CERTIFICATE-----\n".utf8)
        guard let begin = original.firstRange(of: marker)?.upperBound else {
            Issue.record("no PEM in the quote")
            return
        }
        for delta in [100, 400, 700, 900, 1100] {
            var quote = original
            let offset = begin + delta
            if quote[offset] == UInt8(ascii: "\n") { continue }
            quote[offset] = quote[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let failure = DCAPVectors.failure(DCAPVectors.verify(quote, try DCAPVectors.collateral(layout.name)))
            #expect(failure?.check == .certificateChain, "delta \(delta): \(String(describing: failure))")
        }
    }

    static let vectors = ["sgx-dcap", "tdx-dcap"]

    func flipHexDigit(_ text: String, at index: Int) -> String {
        var characters = Array(text)
        characters[index] = characters[index] == "0" ? "1" : "0"
        return String(characters)
    }

    @Test(arguments: vectors)
    func tcbInfoSignature(vector: String) throws {
        for index in [0, 70, 127] {
            let collateral = try DCAPVectors.collateral(vector, editing: "tcb_info_signature") { flipHexDigit($0, at: index) }
            let failure = DCAPVectors.failure(DCAPVectors.verify(try DCAPVectors.quote(vector), collateral))
            #expect(failure?.check == .collateralSignature, "index \(index): \(String(describing: failure))")
            #expect(failure?.message.contains("TCB Info signature") == true)
        }
    }

    @Test(arguments: vectors)
    func tcbInfoBody(vector: String) throws {
        // Move a TCB level's date and, separately, the evaluation number: valid JSON, unsigned content.
        let edits: [(String) -> String] = [
            { $0.replacingOccurrences(of: "\"tcbDate\":\"2024-03-13", with: "\"tcbDate\":\"2024-03-12") },
            { $0.replacingOccurrences(of: "\"tcbEvaluationDataNumber\":17", with: "\"tcbEvaluationDataNumber\":18") },
        ]
        let original = try DCAPVectors.collateral(vector, editing: "tcb_info") { $0 }.tcbInfoBody
        for edit in edits {
            #expect(Array(edit(String(decoding: original, as: UTF8.self)).utf8) != original, "the edit must change the body")
            let collateral = try DCAPVectors.collateral(vector, editing: "tcb_info", edit)
            let failure = DCAPVectors.failure(DCAPVectors.verify(try DCAPVectors.quote(vector), collateral))
            #expect(failure?.check == .collateralSignature, "\(String(describing: failure))")
        }
    }

    @Test(arguments: vectors)
    func qeIdentitySignature(vector: String) throws {
        for index in [1, 64, 126] {
            let collateral = try DCAPVectors.collateral(vector, editing: "qe_identity_signature") { flipHexDigit($0, at: index) }
            let failure = DCAPVectors.failure(DCAPVectors.verify(try DCAPVectors.quote(vector), collateral))
            #expect(failure?.check == .collateralSignature, "index \(index): \(String(describing: failure))")
            #expect(failure?.message.contains("QE Identity signature") == true)
        }
    }

    @Test(arguments: vectors)
    func qeIdentityBody(vector: String) throws {
        let collateral = try DCAPVectors.collateral(vector, editing: "qe_identity") {
            $0.replacingOccurrences(of: "\"tcbDate\":\"2024-03-13", with: "\"tcbDate\":\"2024-03-14")
        }
        let failure = DCAPVectors.failure(DCAPVectors.verify(try DCAPVectors.quote(vector), collateral))
        #expect(failure?.check == .collateralSignature, "\(String(describing: failure))")
    }

    @Test(arguments: vectors)
    func crlSignatures(vector: String) throws {
        for key in ["root_ca_crl", "pck_crl"] {
            // The last hex digits are inside the CRL's signature value.
            let collateral = try DCAPVectors.collateral(vector, editing: key) { flipHexDigit($0, at: $0.count - 4) }
            let failure = DCAPVectors.failure(DCAPVectors.verify(try DCAPVectors.quote(vector), collateral))
            #expect(failure?.check == .revocation, "\(key): \(String(describing: failure))")
        }
    }
}
