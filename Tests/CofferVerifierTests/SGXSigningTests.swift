import CofferCore
import CofferEvidence
import CofferTestSupport
import CofferVerifier
import Foundation
import Testing

/// An independent check of a SIGSTRUCT file, in Python's own integers: the modulus is the key's
/// (as `openssl rsa -modulus` prints it), the exponent 3, pow(SIGNATURE, 3, MODULUS) is the
/// PKCS#1 v1.5 encoding of SHA-256 over bytes 0..<128 and 900..<1028 (RFC 8017 section 9.2, the
/// DigestInfo prefix of note 1), and Q1/Q2 are as SDM table 38-19 defines them. Prints
/// "ok MRSIGNER ENCLAVEHASH".
let referenceCheck = #"""
import hashlib, sys
d = open(sys.argv[1], 'rb').read()
assert len(d) == 1808, len(d)
le = lambda b: int.from_bytes(b, 'little')
n, e, s = le(d[128:512]), le(d[512:516]), le(d[516:900])
q1, q2 = le(d[1040:1424]), le(d[1424:1808])
if len(sys.argv) > 2: assert n == int(sys.argv[2], 16), 'modulus is not the key'
assert e == 3 and n.bit_length() == 3072
digest = hashlib.sha256(d[0:128] + d[900:1028]).digest()
info = bytes.fromhex('3031300d060960864801650304020105000420') + digest
assert pow(s, 3, n).to_bytes(384, 'big') == b'\x00\x01' + b'\xff' * (384 - 3 - len(info)) + b'\x00' + info, 'signature'
assert q1 == s * s // n, 'q1'
assert q2 == (s * s * s - q1 * s * n) // n, 'q2'
print('ok', hashlib.sha256(d[128:512]).hexdigest(), d[960:992].hex())
"""#

func referenceVerify(_ path: String, modulus: String? = nil) throws -> CommandResult {
    try run("python3", ["-c", referenceCheck, path] + (modulus.map { [$0] } ?? []))
}

/// `SigStruct.sign`: a SIGSTRUCT Coffer writes verifies under Coffer's verifier and under the
/// independent reference above, for a key openssl made.
@Suite struct SGXSigningTests {
    static func key(_ directory: TemporaryDirectory, _ options: String = "-3 3072") throws -> (pem: String, modulus: String) {
        let path = directory.file("key-\(options.replacingOccurrences(of: " ", with: "_")).pem")
        try sh("openssl genrsa -out \(path) \(options) 2>/dev/null")
        let modulus = try sh("openssl rsa -in \(path) -noout -modulus").trimmingCharacters(in: .whitespacesAndNewlines)
        return (try String(contentsOfFile: path, encoding: .utf8), String(modulus.dropFirst("Modulus=".count)))
    }

    /// The reference check itself accepts the real vector and refuses it with a flipped signed byte.
    @Test func theReferenceCheckAcceptsTheVectorAndRefusesATamperedOne() throws {
        let directory = try TemporaryDirectory("coffer-sgx-reference")
        let vector = try SGXEnclaveVectorTests.sigStruct()
        let good = try referenceVerify(try Vectors.path("sgx-enclave/test_enclave.sig"))
        #expect(good.status == 0 && good.stdout == "ok \(SGXEnclaveVectorTests.mrSigner) \(SGXEnclaveVectorTests.mrEnclave)\n", "\(good.stderr)")
        var tampered = vector
        tampered[1024] ^= 1
        FileManager.default.createFile(atPath: directory.file("bad.sig"), contents: Data(tampered))
        let bad = try referenceVerify(directory.file("bad.sig"))
        #expect(bad.status != 0 && bad.stderr.contains("signature"), "\(bad.stderr)")
    }

    @Test func aSignedSigStructVerifiesHereAndInTheReference() throws {
        let directory = try TemporaryDirectory("coffer-sgx-sign")
        let (pem, modulus) = try Self.key(directory)
        let key = try SGXSigningKey(pemRepresentation: pem)
        #expect(Hex.encode(key.modulus.reversed()) == modulus.lowercased())
        let measurement = try SGXSMeasurement(stream: SGXEnclaveVectorTests.stream())
        var sig = SigStruct()
        sig.date = 0x2026_1203
        sig.enclaveHash = measurement.mrEnclave
        sig.isvProdID = 7
        sig.isvSVN = 2
        sig.attributes = Hex.decode("04000000000000000300000000000000") ?? []
        sig.attributeMask = Hex.decode("ffffffffffffffff1bffffffffffffff") ?? []
        try sig.sign(with: key)
        let parsed = try SigStruct(bytes: sig.encoded)
        try parsed.verifySignature()
        #expect(parsed.mrSigner == SHA256Digest.hash(key.modulus))
        let identity = try SGXEnclaveIdentity(stream: SGXEnclaveVectorTests.stream(), sigStruct: sig.encoded)
        #expect(identity.claims["isv_prod_id"] == "7" && identity.claims["isv_svn"] == "2")

        FileManager.default.createFile(atPath: directory.file("signed.sig"), contents: Data(sig.encoded))
        let reference = try referenceVerify(directory.file("signed.sig"), modulus: modulus)
        #expect(reference.status == 0 && reference.stdout == "ok \(Hex.encode(parsed.mrSigner)) \(SGXEnclaveVectorTests.mrEnclave)\n", "\(reference.stderr)")

        // Re-signing with other fields changes the signature and keeps it valid; one changed field
        // after signing breaks it.
        var other = sig
        other.isvSVN = 3
        #expect(throws: SGXEnclaveError.self) { try SigStruct(bytes: other.encoded).verifySignature() }
        try other.sign(with: key)
        try SigStruct(bytes: other.encoded).verifySignature()
        #expect(other.signature != sig.signature)
    }

    /// Q1 and Q2 against their definition for the real vector (whose signer computed them) and
    /// for small numbers worked by hand: S = 5, M = 7: Q1 = 25 / 7 = 3, Q2 = (125 − 3·5·7) / 7 = 2.
    @Test func theQuotientsAreTheirDefinition() throws {
        let vector = try SigStruct(bytes: SGXEnclaveVectorTests.sigStruct())
        let computed = SigStruct.quotients(signature: vector.signature, modulus: vector.modulus)
        #expect(computed.q1 == vector.q1 && computed.q2 == vector.q2)
        let small = SigStruct.quotients(signature: [5] + [UInt8](repeating: 0, count: 383), modulus: [7] + [UInt8](repeating: 0, count: 383))
        #expect(small.q1 == [3] + [UInt8](repeating: 0, count: 383) && small.q2 == [2] + [UInt8](repeating: 0, count: 383))
        // Two-byte values: S = 0x1234, M = 0x4321: Q1 = 0x14b5a90 / 0x4321 = 0x4e4, Q2 = S·(S² mod M) / M.
        let s = 0x1234, m = 0x4321, q1 = s * s / m, q2 = (s * s * s - q1 * s * m) / m
        let medium = SigStruct.quotients(signature: [0x34, 0x12] + [UInt8](repeating: 0, count: 382), modulus: [0x21, 0x43] + [UInt8](repeating: 0, count: 382))
        #expect(medium.q1.prefix(4) == [UInt8(q1 & 0xFF), UInt8(q1 >> 8), 0, 0] && medium.q2.prefix(4) == [UInt8(q2 & 0xFF), UInt8(q2 >> 8), 0, 0])
    }

    @Test func otherKeysAreRefusedNamingWhatTheyAre() throws {
        let directory = try TemporaryDirectory("coffer-sgx-keys")
        #expect { try SGXSigningKey(pemRepresentation: Self.key(directory, "2048").pem) } throws: { error in
            "\(error)".contains("RSA-2048: SGX requires RSA-3072")
        }
        #expect { try SGXSigningKey(pemRepresentation: Self.key(directory, "-3 2048").pem) } throws: { error in
            "\(error)".contains("RSA-2048: SGX requires RSA-3072")
        }
        #expect { try SGXSigningKey(pemRepresentation: Self.key(directory, "3072").pem) } throws: { error in
            "\(error)".contains("public exponent 0x010001: SGX requires exponent 3")
        }
        #expect { try SGXSigningKey(pemRepresentation: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") } throws: { error in
            "\(error)".contains("not an unencrypted PEM RSA private key")
        }
        let ec = try sh("openssl genpkey -algorithm ed25519")
        #expect(throws: SGXEnclaveError.self) { try SGXSigningKey(pemRepresentation: ec) }
    }
}
