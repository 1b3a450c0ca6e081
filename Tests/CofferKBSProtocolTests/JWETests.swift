import CofferKBSProtocol
import CofferKBS
import CofferJSON
import Crypto
import Testing

/// The client's JWE side (CofferKBSProtocol, P-256 ECDH-ES+A256KW) against the broker's encrypt
/// side (CofferKBS's `JWE.encrypt`): what the broker sends, the protocol module opens, and nothing
/// altered opens.
@Suite struct ProtocolJWETests {
    @Test func aJWEFromTheBrokerDecryptsWithTheProtocolModule() throws {
        let key = P256.KeyAgreement.PrivateKey()
        let jwk = TeePubKey(p256: key.publicKey)
        guard case .ec(let crv, let alg, let x, let y) = jwk else { Issue.record("not an EC JWK"); return }
        #expect(crv == "P-256" && alg == "ECDH-ES+A256KW")
        #expect(Base64URL.decode(x).map { [0x04] + $0 + (Base64URL.decode(y) ?? []) } == Array(key.publicKey.x963Representation))
        for secret in [[], Array("disk key 0123456789abcdef".utf8), [UInt8](repeating: 0xA5, count: 4097)] {
            let response = try JWE.encrypt(secret, to: jwk)
            #expect(try JWE.decrypt(response, with: key) == secret)
            // Through the wire form too.
            #expect(try JWE.decrypt(try JWEResponse(json: try JSONValue.parse(CanonicalJSON.serialize(response.json))), with: key) == secret)
        }
    }

    @Test func aTamperedJWEOrAnotherKeyIsRefused() throws {
        let key = P256.KeyAgreement.PrivateKey()
        let response = try JWE.encrypt(Array("secret".utf8), to: TeePubKey(p256: key.publicKey))
        func flipped(_ text: String) -> String {
            var bytes = Base64URL.decode(text) ?? []
            bytes[0] ^= 1
            return Base64URL.encode(bytes)
        }
        var tampered = [JWEResponse]()
        for field in [\JWEResponse.encryptedKey, \.iv, \.ciphertext, \.tag] {
            var copy = response
            copy[keyPath: field] = flipped(copy[keyPath: field])
            tampered.append(copy)
        }
        for copy in tampered {
            #expect(throws: JWEError.decryptionFailed) { try JWE.decrypt(copy, with: key) }
        }
        #expect(throws: JWEError.decryptionFailed) { try JWE.decrypt(response, with: P256.KeyAgreement.PrivateKey()) }
        // A header re-encoded (same members, one more space) breaks the AAD; a header without A256GCM,
        // with another alg or without a usable epk is malformed, and says which.
        let header = try #require(try JSONValue.parse(Base64URL.decode(response.protected) ?? []).objectValue)
        var respaced = response
        respaced.protected = Base64URL.encode(Array((String(decoding: CanonicalJSON.serialize(.object(header)), as: UTF8.self) + " ").utf8))
        #expect(throws: JWEError.decryptionFailed) { try JWE.decrypt(respaced, with: key) }
        let cases: [(String, JSONValue, String)] = [("enc", .string("A128GCM"), "enc must be A256GCM"),
                                                    ("alg", .string("RSA-OAEP"), "alg must be ECDH-ES+A256KW for an EC key"),
                                                    ("epk", .object([:]), "epk is not a P-256 point")]
        for (member, value, why) in cases {
            var changed = header
            changed[member] = value
            var copy = response
            copy.protected = Base64URL.encode(CanonicalJSON.serialize(.object(changed)))
            #expect(throws: JWEError.malformed(why)) { try JWE.decrypt(copy, with: key) }
        }
        var missing = response
        missing.protected = "!!"
        #expect(throws: JWEError.malformed("protected header")) { try JWE.decrypt(missing, with: key) }
    }
}
