@testable import CofferKBS
import Crypto
import Foundation
import Testing
import CofferJSON

@Suite struct JWETests {
    @Test(arguments: ["EC", "RSA-OAEP-256", "RSA-OAEP", "RSA1_5"])
    func roundTripsToEveryAcceptedKeyKind(kind: String) throws {
        let pair = kind == "EC" ? TEEKeyPair.ec() : try TEEKeyPair.rsa(alg: kind)
        let secret = Array("disk key 0123456789abcdef".utf8)
        let response = try JWE.encrypt(secret, to: pair.publicKey)
        #expect(try pair.decrypt(response) == secret)
        let header = try JSONDecoder().decode(JSONValue.self, from: Data(#require(Base64URL.decode(response.protected))))
        #expect(header["enc"] == .string("A256GCM"))
        #expect(header["alg"] == .string(pair.publicKey.alg))
        #expect(Base64URL.decode(response.iv)?.count == 12)
        #expect(Base64URL.decode(response.tag)?.count == 16)
    }

    /// The ephemeral key skips BoringSSL's pairwise self-test, so check here what it would: the
    /// public key is the scalar times the generator (an ECDH with another key agrees both ways),
    /// and every JWE gets a different ephemeral key.
    @Test func ephemeralKeysAreConsistentAndFresh() throws {
        let peer = P256.KeyAgreement.PrivateKey()
        var seen = Set<Data>()
        for _ in 0..<50 {
            let ephemeral = EphemeralKey.make()
            let ours = try ephemeral.sharedSecretFromKeyAgreement(with: peer.publicKey)
            let theirs = try peer.sharedSecretFromKeyAgreement(with: ephemeral.publicKey)
            #expect(ours == theirs)
            seen.insert(ephemeral.rawRepresentation)
        }
        #expect(seen.count == 50)
        let pair = TEEKeyPair.ec()
        var epks = Set<[UInt8]>()
        for _ in 0..<10 {
            let header = try JSONValue.parse(Array(try #require(Base64URL.decode(try JWE.encrypt([1], to: pair.publicKey).protected))))
            epks.insert(CanonicalJSON.serialize(try #require(header["epk"])))
        }
        #expect(epks.count == 10)
    }

    @Test func tamperedCiphertextOrHeaderDoesNotDecrypt() throws {
        let pair = TEEKeyPair.ec()
        let response = try JWE.encrypt(Array("secret".utf8), to: pair.publicKey)
        var flipped = response
        var bytes = Array(try #require(Base64URL.decode(response.ciphertext)))
        bytes[0] ^= 1
        flipped.ciphertext = Base64URL.encode(bytes)
        #expect(throws: JWEError.decryptionFailed) { try pair.decrypt(flipped) }
        var other = response
        other.protected = Base64URL.encode(Array(#"{"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{}}"#.utf8))
        #expect(throws: JWEError.self) { try pair.decrypt(other) }
        #expect(throws: JWEError.decryptionFailed) { try TEEKeyPair.ec().decrypt(response) }
    }

    @Test func refusesKeysItCannotEncryptToSafely() throws {
        let weak = try _RSAKeyFixture.publicKey(bits: 1024)
        #expect(throws: JWEError.self) { try JWE.validate(weak) }
        #expect(throws: JWEError.self) { try JWE.validate(.ec(crv: "P-384", alg: "ECDH-ES+A256KW", x: "AA", y: "AA")) }
        #expect(throws: JWEError.self) { try JWE.validate(.ec(crv: "P-256", alg: "ECDH-ES+A256KW", x: "AAAA", y: "AAAA")) }
        if case .rsa(_, let n, let e) = try TEEKeyPair.rsa().publicKey {
            #expect(throws: JWEError.self) { try JWE.validate(.rsa(alg: "RSA-OAEP-384", n: n, e: e)) }
        }
    }
}

import _CryptoExtras
enum _RSAKeyFixture {
    static func publicKey(bits: Int) throws -> TeePubKey {
        let key = try _RSA.Encryption.PrivateKey(unsafeKeySize: _RSA.Signing.KeySize(bitCount: bits))
        let p = try key.publicKey.getKeyPrimitives()
        return .rsa(alg: "RSA-OAEP-256", n: Base64URL.encode(p.modulus), e: Base64URL.encode(p.publicExponent))
    }
}

@Suite struct CompactJWTTests {
    let key = P256.Signing.PrivateKey()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func signsAndVerifies() throws {
        let token = try CompactJWT.sign(payload: .object(["exp": .number(1_800_000_060), "sub": .string("x")]), with: key)
        let payload = try CompactJWT.verify(token, with: key.publicKey, now: now)
        #expect(payload["sub"] == .string("x"))
    }

    @Test func refusesExpiredForeignTamperedAndAlgNone() throws {
        let token = try CompactJWT.sign(payload: .object(["exp": .number(1_800_000_060)]), with: key)
        #expect(throws: CompactJWT.Failure.expired) { try CompactJWT.verify(token, with: key.publicKey, now: now.addingTimeInterval(61)) }
        #expect(throws: CompactJWT.Failure.badSignature) { try CompactJWT.verify(token, with: P256.Signing.PrivateKey().publicKey, now: now) }
        let parts = token.split(separator: ".").map(String.init)
        let forged = parts[0] + "." + Base64URL.encode(Array(#"{"exp":9999999999}"#.utf8)) + "." + parts[2]
        #expect(throws: CompactJWT.Failure.badSignature) { try CompactJWT.verify(forged, with: key.publicKey, now: now) }
        let none = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8)) + "." + parts[1] + "."
        #expect(throws: CompactJWT.Failure.self) { try CompactJWT.verify(none, with: key.publicKey, now: now) }
        #expect(throws: CompactJWT.Failure.self) { try CompactJWT.verify("garbage", with: key.publicKey, now: now) }
    }
}
