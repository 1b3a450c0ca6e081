import CofferCore
import CofferEvidence
import CofferVerifier
import Crypto
import Testing

@Suite("Sample evidence")
struct SampleEvidenceTests {
    let key = Curve25519.Signing.PrivateKey()
    let measurement = (0..<48).map { UInt8($0) }
    let hostData = [UInt8](repeating: 0xAA, count: 32)
    let reportData = (0..<64).map { UInt8(255 - $0) }

    func evidence() throws -> SampleEvidence {
        try SampleEvidence.signed(measurement: measurement, hostData: hostData, reportData: reportData, by: key)
    }

    @Test("encoding then parsing gives the same evidence, laid out as documented")
    func roundTrip() throws {
        let original = try evidence()
        let bytes = original.encoded
        #expect(bytes.count == SampleEvidence.size)
        #expect(Array(bytes[0..<8]) == Array("COFFSMPL".utf8))
        #expect(Array(bytes[12..<60]) == measurement)
        #expect(Array(bytes[156..<188]) == Array(key.publicKey.rawRepresentation))
        #expect(try SampleEvidence(parsing: bytes) == original)
        #expect(original.bytesToSign == Array(bytes[..<SampleEvidence.signedLength]))
    }

    @Test("short fields are zero-padded; long ones are refused")
    func padding() throws {
        let short = try SampleEvidence(measurement: [1], hostData: [], reportData: [2, 3], signerPublicKey: [UInt8](repeating: 0, count: 32))
        #expect(short.measurement == [1] + [UInt8](repeating: 0, count: 47))
        #expect(throws: SampleEvidenceError.self) {
            try SampleEvidence(measurement: [UInt8](repeating: 0, count: 49), hostData: [], reportData: [], signerPublicKey: [UInt8](repeating: 0, count: 32))
        }
    }

    @Test("a trusted signer verifies, with claims that say it protects nothing")
    func verifies() throws {
        let claims = try SampleVerifier.verify(evidence: try evidence().encoded, trustedSigners: [key.publicKey]).get()
        #expect(claims.tee == .sample && !claims.hardwareBacked && claims.tcbStatus == nil)
        #expect(claims.details["warning"] == "sample evidence: not hardware-backed, protects nothing")
        #expect(claims.measurements["measurement"] == Hex.encode(measurement))
        #expect(claims.measurements["host_data"] == Hex.encode(hostData))
        #expect(claims.reportData == Hex.encode(reportData))
    }

    static func check(_ result: Result<Claims, VerificationFailure>) -> VerificationFailure.Check? {
        if case .failure(let failure) = result { return failure.check }
        return nil
    }

    @Test("a signer outside the trusted set is refused")
    func wrongSigner() throws {
        let other = Curve25519.Signing.PrivateKey()
        let result = SampleVerifier.verify(evidence: try evidence().encoded, trustedSigners: [other.publicKey])
        #expect(Self.check(result) == .certificateChain)
        // Re-signing under another key while keeping this key's name does not verify either.
        var forged = try evidence()
        forged.signature = Array(try other.signature(for: forged.bytesToSign))
        #expect(Self.check(SampleVerifier.verify(evidence: forged.encoded, trustedSigners: [key.publicKey])) == .signature)
    }

    @Test("flipping any byte fails: signature, trust or format, never success")
    func flips() throws {
        let bytes = try evidence().encoded
        for offset in bytes.indices {
            var flipped = bytes
            flipped[offset] ^= 0x01
            let result = SampleVerifier.verify(evidence: flipped, trustedSigners: [key.publicKey])
            guard case .failure(let failure) = result else { Issue.record("offset \(offset) verified"); continue }
            let expected: VerificationFailure.Check =
                offset < 12 ? .malformedEvidence : (156..<188).contains(offset) ? .certificateChain : .signature
            #expect(failure.check == expected, "offset \(offset)")
        }
    }

    @Test("every truncation and any trailing byte are malformed evidence")
    func truncations() throws {
        let bytes = try evidence().encoded
        for length in 0..<bytes.count {
            #expect(throws: SampleEvidenceError.self) { try SampleEvidence(parsing: Array(bytes[..<length])) }
        }
        #expect(throws: SampleEvidenceError.trailingBytes(count: 1)) { try SampleEvidence(parsing: bytes + [0]) }
    }
}
