import CofferCore
import CofferEvidence
import CofferTestSupport
import CofferVerifier
import Foundation
import Testing

/// The real enclave of ../shared/vectors/sgx-enclave (fortanix/rust-sgx's sgx_detect test enclave)
/// and its SIGSTRUCT: every value the vectors README lists, and what tampering and truncation do.
@Suite struct SGXEnclaveVectorTests {
    static let mrEnclave = "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc"
    static let mrSigner = "fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542"

    static func stream() throws -> [UInt8] { try Vectors.bytes("sgx-enclave/test_enclave.sgxs") }
    static func sigStruct() throws -> [UInt8] { try Vectors.bytes("sgx-enclave/test_enclave.sig") }

    @Test func theVectorsValuesAreThoseTheREADMEGives() throws {
        let measurement = try SGXSMeasurement(stream: Self.stream())
        #expect(Hex.encode(measurement.mrEnclave) == Self.mrEnclave)
        #expect(measurement.measuredChunks == 144 && measurement.unmeasuredChunks == 0 && measurement.pages == 9)
        let sig = try SigStruct(bytes: Self.sigStruct())
        #expect(Hex.encode(sig.enclaveHash) == Self.mrEnclave)
        #expect(Hex.encode(sig.mrSigner) == Self.mrSigner)
        #expect(sig.isvProdID == 65535 && sig.isvSVN == 0)
        #expect(sig.date == 0x2016_1214 && sig.dateText == "2016-12-14")
        #expect(Hex.encode(sig.attributes) == "04000000000000000300000000000000")
        #expect(Hex.encode(sig.attributeMask) == "fdffffffffffffff1bffffffffffffff")
        try sig.verifySignature()
        let identity = try SGXEnclaveIdentity(stream: Self.stream(), sigStruct: Self.sigStruct())
        #expect(identity.claims == ["mr_enclave": Self.mrEnclave, "mr_signer": Self.mrSigner, "isv_prod_id": "65535", "isv_svn": "0"])
    }

    /// The exponent the SIGSTRUCT stores is 3 (offset 512, after the 384-byte modulus at 128).
    @Test func theExponentIs3() throws {
        let bytes = try Self.sigStruct()
        #expect(Array(bytes[512..<516]) == [3, 0, 0, 0])
        var other = bytes
        other[512] = 0x01
        other[514] = 0x01
        #expect(throws: SGXEnclaveError.badValue(what: "SIGSTRUCT", field: "exponent", detail: "65537, SGX requires 3")) { try SigStruct(bytes: other) }
    }

    /// Every byte of both signed regions, flipped: the SIGSTRUCT either fails to parse (a fixed
    /// or reserved field) or fails the signature check; never verifies.
    @Test func aFlippedByteInEitherSignedRegionFailsTheSignature() throws {
        let bytes = try Self.sigStruct()
        var signatureFailures = 0
        for index in Array(0..<128) + Array(900..<1028) {
            var tampered = bytes
            tampered[index] ^= 0x01
            do {
                let sig = try SigStruct(bytes: tampered)
                do {
                    try sig.verifySignature()
                    Issue.record("byte \(index) flipped, and the signature still verifies")
                } catch {
                    guard case .badSignature(let detail) = error, detail.contains("does not verify") else { Issue.record("byte \(index): \(error)"); continue }
                    signatureFailures += 1
                }
            } catch {
                guard case .badValue(what: "SIGSTRUCT", _, _) = error else { Issue.record("byte \(index): \(error)"); continue }
            }
        }
        // The flips that parse reach the RSA check: DATE and SWDEFINED (8 bytes) in the header;
        // MISCSELECT/MISCMASK, the CET bytes, ISVFAMILYID, ATTRIBUTES, ATTRIBUTEMASK, ENCLAVEHASH,
        // ISVEXTPRODID, ISVPRODID and ISVSVN (110) in the body. The rest (HEADER, TYPE's low 31
        // bits, VENDOR, HEADER2, reserved) are refused by the parser.
        #expect(signatureFailures == 118, "\(signatureFailures) flips reached the signature check")
    }

    @Test func aFlippedModulusSignatureOrQuotientFails() throws {
        let bytes = try Self.sigStruct()
        for (index, expected) in [(128, "does not verify"), (300, "does not verify"), (516, "does not verify"), (899, "does not verify"),
                                  (1040, "Q1"), (1423, "Q1"), (1424, "Q2"), (1807, "Q2")] {
            var tampered = bytes
            tampered[index] ^= 0x80
            let sig = try SigStruct(bytes: tampered)
            #expect { try sig.verifySignature() } throws: { error in
                guard case SGXEnclaveError.badSignature(let detail) = error else { return false }
                return detail.contains(expected)
            }
        }
    }

    /// A flipped byte of measured data changes MRENCLAVE, and the SIGSTRUCT then names both values.
    @Test func aFlippedByteOfTheSGXSChangesMREnclave() throws {
        let stream = try Self.stream()
        var seen: Set<[UInt8]> = []
        var eextends: [Int] = []
        var offset = 0
        while offset < stream.count {
            let eextend = stream[offset..<offset + 8].elementsEqual("EEXTEND\0".utf8)
            if eextend { eextends.append(offset) }
            offset += eextend ? 320 : 64
        }
        #expect(eextends.count == 144)
        // Data bytes of the first, a middle and the last EEXTEND; and an EADD's SECINFO flags.
        for index in [eextends[0] + 64, eextends[0] + 64 + 255, eextends[72] + 64 + 7, stream.count - 1, 64 + 16] {
            var tampered = stream
            tampered[index] ^= 0x01
            let measurement = try SGXSMeasurement(stream: tampered)
            #expect(Hex.encode(measurement.mrEnclave) != Self.mrEnclave, "byte \(index)")
            seen.insert(measurement.mrEnclave)
            #expect(throws: SGXEnclaveError.enclaveHashMismatch(enclaveHash: Self.mrEnclave, mrEnclave: Hex.encode(measurement.mrEnclave))) {
                try SGXEnclaveIdentity(stream: tampered, sigStruct: Self.sigStruct())
            }
            let message = SGXEnclaveError.enclaveHashMismatch(enclaveHash: Self.mrEnclave, mrEnclave: Hex.encode(measurement.mrEnclave)).description
            #expect(message.contains(Self.mrEnclave) && message.contains(Hex.encode(measurement.mrEnclave)))
        }
        #expect(seen.count == 5)
    }

    /// UNMEASRD records (a chunk loaded, not measured) do not change MRENCLAVE.
    @Test func unmeasuredChunksAreNotMeasured() throws {
        let stream = try Self.stream()
        // The last record is an EEXTEND of the last page: an UNMEASRD of that same chunk follows it.
        let last = stream.count - 320
        #expect(Array(stream[last..<last + 8]) == Array("EEXTEND\0".utf8))
        let unmeasured = Array("UNMEASRD".utf8) + Array(stream[last + 8..<last + 64]) + [UInt8](repeating: 0xA5, count: 256)
        let measurement = try SGXSMeasurement(stream: stream + unmeasured)
        #expect(Hex.encode(measurement.mrEnclave) == Self.mrEnclave && measurement.unmeasuredChunks == 1)
    }

    /// Cut anywhere: a clear error, or (at a record boundary) a shorter enclave's MRENCLAVE; never a crash.
    @Test func truncatedInputsGiveClearErrors() throws {
        let stream = try Self.stream()
        for length in Array(0..<200) + Array(stride(from: 200, to: stream.count, by: 61)) + [stream.count - 1] {
            do {
                let measurement = try SGXSMeasurement(stream: Array(stream.prefix(length)))
                #expect(length % 64 == 0 && Hex.encode(measurement.mrEnclave) != Self.mrEnclave, "length \(length)")
            } catch {
                let message = "\(error)"
                #expect(message.hasPrefix("SGXS stream"), "length \(length): \(message)")
                if case .truncated = error { #expect(message.contains("needed") && message.contains("record["), "\(message)") }
            }
        }
        let sig = try Self.sigStruct()
        for length in 0..<sig.count {
            #expect { try SigStruct(bytes: Array(sig.prefix(length))) } throws: { error in
                guard case SGXEnclaveError.truncated(what: "SIGSTRUCT (1808 bytes)", _) = error else { return false }
                return "\(error)".contains("truncated at")
            }
        }
        #expect(throws: SGXEnclaveError.self) { try SigStruct(bytes: sig + [0]) }
    }
}

/// SIGSTRUCT's byte layout (SDM Vol. 3D table 38-19), golden: each field at the offset the table
/// gives. It feeds MRSIGNER (the modulus) and EINIT's check of the measurement (ENCLAVEHASH).
@Suite struct SigStructEncodingTests {
    @Test func fieldsSitAtTheTablesOffsets() throws {
        var sig = SigStruct()
        sig.type = 0x8000_0000
        sig.vendor = 0x8086
        sig.date = 0x2026_1203
        sig.swDefined = 0x0102_0304
        sig.modulus = (0..<384).map { UInt8(truncatingIfNeeded: $0) }
        sig.signature = (0..<384).map { UInt8(truncatingIfNeeded: $0 &* 3) }
        sig.miscSelect = 0x1111_1111
        sig.miscMask = 0x2222_2222
        sig.cetAttributes = 0x33
        sig.cetAttributesMask = 0x44
        sig.isvFamilyID = [UInt8](repeating: 0x55, count: 16)
        sig.attributes = [UInt8](repeating: 0x66, count: 16)
        sig.attributeMask = [UInt8](repeating: 0x77, count: 16)
        sig.enclaveHash = [UInt8](repeating: 0x88, count: 32)
        sig.isvExtProdID = [UInt8](repeating: 0x99, count: 16)
        sig.isvProdID = 0xABCD
        sig.isvSVN = 0x1234
        sig.q1 = [UInt8](repeating: 0xC1, count: 384)
        sig.q2 = [UInt8](repeating: 0xC2, count: 384)
        let bytes = sig.encoded
        #expect(bytes.count == 1808)
        func at(_ offset: Int, _ count: Int) -> String { Hex.encode(Array(bytes[offset..<offset + count])) }
        #expect(at(0, 16) == "06000000e100000000000100" + "00000080")
        #expect(at(16, 8) == "86800000" + "03122620")
        #expect(at(24, 16) == "01010000600000006000000001000000")
        #expect(at(40, 4) == "04030201" && at(44, 84) == String(repeating: "00", count: 84))
        #expect(Array(bytes[128..<512]) == sig.modulus && at(512, 4) == "03000000" && Array(bytes[516..<900]) == sig.signature)
        #expect(at(900, 12) == "11111111" + "22222222" + "3344" + "0000")
        #expect(at(912, 16) == String(repeating: "55", count: 16) && at(928, 16) == String(repeating: "66", count: 16))
        #expect(at(944, 16) == String(repeating: "77", count: 16) && at(960, 32) == String(repeating: "88", count: 32))
        #expect(at(992, 16) == String(repeating: "00", count: 16) && at(1008, 16) == String(repeating: "99", count: 16))
        #expect(at(1024, 4) == "cdab3412" && at(1028, 12) == String(repeating: "00", count: 12))
        #expect(at(1040, 384) == String(repeating: "c1", count: 384) && at(1424, 384) == String(repeating: "c2", count: 384))
        #expect(sig.signedBytes == Array(bytes[0..<128] + bytes[900..<1028]))
        #expect(try SigStruct(bytes: bytes) == sig)
        // MRSIGNER is the SHA-256 of exactly those 384 modulus bytes.
        #expect(sig.mrSigner == SHA256Digest.hash(bytes[128..<512]))
    }

    /// The real SIGSTRUCT, parsed and written back, is the same 1808 bytes.
    @Test func theVectorRoundTrips() throws {
        let bytes = try SGXEnclaveVectorTests.sigStruct()
        #expect(try SigStruct(bytes: bytes).encoded == bytes)
    }
}
