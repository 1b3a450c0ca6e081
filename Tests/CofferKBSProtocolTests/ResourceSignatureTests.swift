import CofferKBSProtocol
import Crypto
import Testing

/// Resource signature version 2 (decision 0022 §5): the signed message is golden (it is the
/// protocol), and a signature is refused for any other body, path or key.
@Suite struct ResourceSignatureTests {
    let key = TeePubKey.ec(crv: "P-256", alg: "ECDH-ES+A256KW", x: "x1", y: "y1")
    let body = Array(#"{"ciphertext":"x"}"#.utf8)
    let resource = try! ResourceURI(parsing: "kbs:///default/app/api-key")

    /// Pinned from Python: hashlib.sha384 of the body, json.dumps(sort_keys=True, separators=(",", ":")).
    @Test func theSignedMessageIsGolden() {
        let message = String(decoding: ResourceSignature.message(body: body, resource: resource, teePubkey: key), as: UTF8.self)
        #expect(message == #"{"body-sha384":"1ec16f32013dd3eb6eb2b59da0847b8f7f044d9192ee1f7959360ad5aebdf75edaf7e8cccca1e595dda99ca3d696e53e","#
            + #""resource":"default/app/api-key","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"x1","y":"y1"}}"#)
    }

    @Test func verifiesItsOwnSignatureAndRefusesEveryOtherBinding() throws {
        let broker = P256.Signing.PrivateKey()
        let signature = try ResourceSignature.sign(body: body, resource: resource, teePubkey: key, key: broker)
        try ResourceSignature.verify(signature, body: body, resource: resource, teePubkey: key, key: broker.publicKey)

        let other = try ResourceURI(parsing: "kbs:///default/app/other")
        let otherKey = TeePubKey.ec(crv: "P-256", alg: "ECDH-ES+A256KW", x: "x2", y: "y1")
        let cases: [(String, [UInt8], ResourceURI, TeePubKey, P256.Signing.PublicKey, String)] = [
            ("swapped resource", body, other, key, broker.publicKey, "not signed"),
            ("replayed for another key", body, resource, otherKey, broker.publicKey, "not signed"),
            ("truncated body", Array(body.dropLast()), resource, key, broker.publicKey, "not signed"),
            ("another signer", body, resource, key, P256.Signing.PrivateKey().publicKey, "not signed"),
        ]
        for (name, b, r, k, signer, expected) in cases {
            let error = #expect(throws: KBSProtocolError.self, "\(name)") {
                try ResourceSignature.verify(signature, body: b, resource: r, teePubkey: k, key: signer)
            }
            #expect(error?.description.contains(expected) == true, "\(name): \(error?.description ?? "")")
        }
        for (bad, expected) in [("", "carries no"), ("!!", "not a base64url"), (String(signature.dropLast(4)), "not a base64url")] {
            let error = #expect(throws: KBSProtocolError.self) {
                try ResourceSignature.verify(bad, body: body, resource: resource, teePubkey: key, key: broker.publicKey)
            }
            #expect(error?.description.contains(expected) == true, "\(bad): \(error?.description ?? "")")
        }
    }
}
