import CofferKBSProtocol
import CofferJSON
import Testing

/// The RCAR messages read and written through CofferJSON, against the JSON docs/kbs-protocol.md
/// documents (kbs-types' field names: kebab case for the envelope, snake case in tee-evidence).
@Suite struct MessagesTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }
    func canonical(_ value: JSONValue) -> String { String(decoding: CanonicalJSON.serialize(value), as: UTF8.self) }

    @Test func requestAndChallengeRoundTripTheDocumentedJSON() throws {
        let text = #"{"extra-params":{"supported-hash-algorithms":["sha256","sha384","sha512"]},"tee":"sample","version":"0.4.0"}"#
        let request = try KBSRequest(json: try parse(text))
        #expect(request.version == KBSProtocol.version && request.tee == "sample")
        #expect(request.extraParams?[KBSProtocol.supportedHashAlgorithmsKey] == .array([.string("sha256"), .string("sha384"), .string("sha512")]))
        #expect(canonical(request.json) == text)
        // extra-params absent is written as "" (what guest-components sends).
        #expect(canonical(KBSRequest(tee: "tdx").json) == #"{"extra-params":"","tee":"tdx","version":"0.4.0"}"#)

        let challengeText = #"{"extra-params":{"selected-hash-algorithm":"sha384"},"nonce":"bm9uY2U="}"#
        let challenge = try KBSChallenge(json: try parse(challengeText))
        #expect(challenge.nonce == "bm9uY2U=" && challenge.extraParams[KBSProtocol.selectedHashAlgorithmKey] == .string("sha384"))
        #expect(canonical(challenge.json) == challengeText)
    }

    @Test func attestationRoundTripsWithAndWithoutInitData() throws {
        let text = #"{"init-data":{"body":"version = \"0.1.0\"","format":"toml"},"runtime-data":{"nonce":"n","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"eA","y":"eQ"}},"tee-evidence":{"additional_evidence":"","primary_evidence":{"evidence":"AA"}}}"#
        let attestation = try KBSAttestation(json: try parse(text))
        #expect(attestation.initData == InitData(format: "toml", body: #"version = "0.1.0""#))
        #expect(attestation.runtimeData == RuntimeData(nonce: "n", teePubkey: .ec(crv: "P-256", alg: "ECDH-ES+A256KW", x: "eA", y: "eQ")))
        #expect(attestation.teeEvidence == CompositeEvidence(primaryEvidence: .object(["evidence": .string("AA")])))
        #expect(canonical(attestation.json) == text)
        // Absent init-data is written as null and read back as absent; an RSA key keeps its members.
        let rsa = KBSAttestation(runtimeData: RuntimeData(nonce: "n", teePubkey: .rsa(alg: "RSA-OAEP-256", n: "bg", e: "AQAB")),
                                 teeEvidence: CompositeEvidence(primaryEvidence: .object([:]), additionalEvidence: "[]"))
        #expect(canonical(rsa.json) == #"{"init-data":null,"runtime-data":{"nonce":"n","tee-pubkey":{"alg":"RSA-OAEP-256","e":"AQAB","kty":"RSA","n":"bg"}},"tee-evidence":{"additional_evidence":"[]","primary_evidence":{}}}"#)
        #expect(try KBSAttestation(json: rsa.json) == rsa)
    }

    @Test func tokenJWEAndErrorBodiesRoundTrip() throws {
        #expect(try AttestationTokenResponse(json: try parse(#"{"token":"a.b.c"}"#)).token == "a.b.c")
        let jweText = #"{"ciphertext":"Yw","encrypted_key":"aw","iv":"aQ","protected":"cA","tag":"dA"}"#
        let jwe = try JWEResponse(json: try parse(jweText))
        #expect(jwe == JWEResponse(protected: "cA", encryptedKey: "aw", iv: "aQ", ciphertext: "Yw", tag: "dA"))
        #expect(canonical(jwe.json) == jweText)
        let errorText = #"{"denial":{"actual":"00","claim":"report_data","expected":"ff","reason":"unbound"},"detail":"unbound: claim report_data expected ff, got 00","type":"https://github.com/confidential-containers/kbs/errors/PolicyDeny"}"#
        let error = try ErrorInformation(json: try parse(errorText))
        #expect(error.denial == Denial(claim: "report_data", expected: "ff", actual: "00", reason: "unbound"))
        #expect(error.detail == error.denial?.description)
        #expect(canonical(error.json) == errorText)
        let plain = ErrorInformation(type: "https://github.com/confidential-containers/kbs/errors/TokenNotFound", detail: "no session")
        #expect(try ErrorInformation(json: plain.json) == plain && plain.json["denial"] == nil)
    }

    /// Each malformed message is refused with a KBSProtocolError naming the field's path.
    @Test(arguments: [
        (#"[]"#, "expected a JSON object"),
        (#"{"tee":"sample"}"#, #"missing field "version""#),
        (#"{"version":1,"tee":"sample"}"#, #"wrong type at "version": expected a string"#),
    ])
    func malformedRequestsNameTheField(text: String, message: String) throws {
        let error = #expect(throws: KBSProtocolError.self) { try KBSRequest(json: try parse(text)) }
        #expect(error?.description == message)
    }

    @Test func malformedAttestationsNameTheNestedPath() throws {
        let key = #"{"kty":"OKP","crv":"X25519","x":"eA"}"#
        let cases = [
            (#"{"runtime-data":{"nonce":"n","tee-pubkey":\#(key)},"tee-evidence":{"primary_evidence":{},"additional_evidence":""}}"#,
             #"invalid "runtime-data.tee-pubkey.kty": tee-pubkey kty "OKP" is not supported (RSA or EC)"#),
            (#"{"runtime-data":{"nonce":"n"},"tee-evidence":{"primary_evidence":{},"additional_evidence":""}}"#,
             #"missing field "runtime-data.tee-pubkey""#),
            (#"{"runtime-data":{"nonce":"n","tee-pubkey":{"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x":"eA"}},"tee-evidence":{"primary_evidence":{},"additional_evidence":""}}"#,
             #"missing field "runtime-data.tee-pubkey.y""#),
            (#"{"init-data":{"format":"toml"},"runtime-data":{},"tee-evidence":{}}"#, #"missing field "init-data.body""#),
            (#"{"runtime-data":{"nonce":"n","tee-pubkey":{"kty":"RSA","alg":"RSA-OAEP","n":"bg","e":"AQAB"}},"tee-evidence":[]}"#,
             #"wrong type at "tee-evidence": expected an object"#),
        ]
        for (text, message) in cases {
            let error = #expect(throws: KBSProtocolError.self) { try KBSAttestation(json: try parse(text)) }
            #expect(error?.description == message)
        }
        let denial = #expect(throws: KBSProtocolError.self) {
            try ErrorInformation(json: try parse(#"{"type":"t","detail":"d","denial":{"claim":"c","expected":"e","actual":1,"reason":"r"}}"#))
        }
        #expect(denial?.description == #"wrong type at "denial.actual": expected a string"#)
    }
}
