import CofferKBSProtocol
import CofferVerifier
import Crypto
import Foundation

// Internal decoders (the request bodies the server reads, the JWK inside them) are reached with
// @testable, as the tests do, so the fuzzer drives the same code the HTTP handlers call without
// widening the broker's public API. Both the plain debug build and `make fuzz` enable testing.
@testable import CofferKBS
import CofferJSON

/// Every broker parser that reads bytes from a peer (attesters, relays, admin clients), fed the
/// same input. A parser may throw; it must not trap, hang or touch memory it does not own.
enum KBSParsers {
    /// Fixed keys, so a finding replays the same way in every process.
    static let signingKey = try? P256.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x11, count: 32))
    static let teeKey: TEEKeyPair? = (try? P256.KeyAgreement.PrivateKey(rawRepresentation: [UInt8](repeating: 0x22, count: 32)))
        .map { TEEKeyPair(backing: .ec($0)) }
    /// Inside every token window the fuzzer can sign (and past none of the seeds' `exp`).
    static let now = Date(timeIntervalSince1970: 1_750_600_000)

    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        // Tokens: a JWS as an attestation token and as an admin bearer token (signature fails
        // unless the fuzzer forges ES256), and a JWE compact-serialisation-like body.
        if let key = signingKey {
            _ = try? CompactJWT.verify(text, with: key.publicKey, now: now)
            _ = try? AdminAuthenticator(publicKey: key.publicKey).authorize(text, now: now)
            _ = try? AdminAuthenticator(publicKey: key.publicKey).authorize("Bearer " + text, now: now)
        }
        _ = try? ResourceURI(path: text)
        _ = try? ResourceURI(parsing: text)
        // What the Base64 decoder reads, it writes back and reads as the same bytes.
        if let decoded = Base64URL.decode(text), Base64URL.decode(Base64URL.encode(decoded)) != decoded {
            fatalError("base64url did not round-trip")
        }
        guard let json = try? JSONValue.parse(bytes) else { return }
        _ = CanonicalJSON.serialize(json)
        _ = try? JSONParser.memberSpans(bytes)
        // What the parser writes, it reads back as the same value.
        guard let again = try? JSONValue.parse(json.compactBytes), again == json else { fatalError("compact JSON did not round-trip") }
        // Request bodies and the responses a client reads.
        _ = try? KBSRequest(json: json)
        _ = try? KBSChallenge(json: json)
        _ = try? AttestationTokenResponse(json: json)
        _ = try? ErrorInformation(json: json)
        _ = Claims(json: json)
        _ = BindingHash.select(from: json)
        if let attestation = try? KBSAttestation(json: json) {
            _ = try? JWE.validate(attestation.runtimeData.teePubkey)
            if let initData = attestation.initData { _ = try? InitDataBinding.digest(initData) }
            for tee in KBSTee.allCases { _ = try? EvidenceInput(tee: tee, primary: attestation.teeEvidence.primaryEvidence) }
        }
        for tee in KBSTee.allCases { _ = try? EvidenceInput(tee: tee, primary: json) }
        // The JWK alone: the hand-written decoder, Codable, and (when it is a key the broker takes)
        // encryption to it, which parses n/e or x/y into a key.
        if let key = try? TeePubKey(json: json, path: "tee-pubkey") {
            if (try? JWE.validate(key)) != nil { _ = try? JWE.encrypt([1, 2, 3], to: key) }
        }
        _ = try? JSONDecoder().decode(TeePubKey.self, from: Data(bytes))
        // Init-data in both formats, the body being the input itself.
        _ = try? InitDataBinding.digest(InitData(format: "json", body: text))
        _ = try? InitDataBinding.digest(InitData(format: "toml", body: text))
        // A JWE: the fixed TEE key must refuse anything it did not encrypt, without trapping.
        if let jwe = try? JWEResponse(json: json) { _ = try? teeKey?.decrypt(jwe) }
        // A payload the broker signed: the checks after the signature (exp, aud, lifetime).
        if let key = signingKey, let token = try? CompactJWT.sign(payload: json, with: key) {
            _ = try? CompactJWT.verify(token, with: key.publicKey, now: now)
            _ = try? AdminAuthenticator(publicKey: key.publicKey).authorize("Bearer " + token, now: now)
        }
    }
}

extension KBSParsers {
    /// The seed corpus: the bodies of docs/kbs-protocol.md as a Trustee client sends them, and
    /// tokens and a JWE made with the fixed keys, so the fuzzer starts past every signature and
    /// decryption check.
    static func seeds() -> [[UInt8]] {
        var texts = [
            #"{"version":"0.4.0","tee":"sample","extra-params":{"supported-hash-algorithms":["sha256","sha384","sha512"]}}"#,
            #"{"version":"0.4.0","tee":"tdx","extra-params":""}"#,
            #"{"nonce":"bm9uY2U=","extra-params":{"selected-hash-algorithm":"sha384"}}"#,
            #"{"kty":"RSA","alg":"RSA-OAEP-256","n":"AQAB","e":"AQAB"}"#,
            #"{"format":"toml","body":"algorithm = \"sha384\"\nversion = \"0.1.0\"\n[data]\n"}"#,
            #"{"algorithm":"sha256","version":"0.1.0","data":{}}"#,
            "algorithm = 'sha512' # comment\n[data]\n",
            "default/key/1",
            #"{"type":"https://github.com/confidential-containers/kbs/errors/PolicyDeny","detail":"x"}"#,
        ]
        if let key = teeKey {
            let pubkey = String(decoding: CanonicalJSON.serialize(key.publicKey.json), as: UTF8.self)
            let evidence = #"{"evidence":"\#(Base64URL.encode([UInt8](repeating: 0, count: 252)))"}"#
            texts.append(#"{"init-data":{"format":"json","body":"{\"algorithm\":\"sha256\"}"},"runtime-data":{"nonce":"bm9uY2U=","tee-pubkey":\#(pubkey)},"tee-evidence":{"primary_evidence":\#(evidence),"additional_evidence":""}}"#)
            texts.append(#"{"init-data":null,"runtime-data":{"nonce":"bm9uY2U=","tee-pubkey":\#(pubkey)},"tee-evidence":{"primary_evidence":{"report":"AAAA","collateral":{"vcek":"AA"}},"additional_evidence":"{}"}}"#)
            texts.append(pubkey)
            if let jwe = try? JWE.encrypt(Array("secret".utf8), to: key.publicKey) {
                texts.append(String(decoding: CanonicalJSON.serialize(jwe.json), as: UTF8.self))
            }
        }
        if let key = signingKey {
            let exp = JSONValue.number(now.timeIntervalSince1970 + 60)
            if let token = try? CompactJWT.sign(payload: .object(["iss": .string("coffer-kbs"), "exp": exp]), with: key) { texts.append(token) }
            if let token = try? AdminAuthenticator.token(key: key, now: now) { texts.append("Bearer " + token) }
            texts.append(#"{"aud":"coffer-kbs-admin","iat":1750600000,"exp":"# + "\(now.timeIntervalSince1970 + 60)}")
        }
        return texts.map { Array($0.utf8) }
    }

    static func writeSeeds(_ directory: String) -> Int32 {
        for (index, seed) in seeds().enumerated() {
            guard FileManager.default.createFile(atPath: "\(directory)/kbs-seed-\(index)", contents: Data(seed)) else { return 2 }
        }
        print("kbs-fuzz: wrote \(seeds().count) seeds to \(directory)")
        return 0
    }

    /// `--write-seeds DIR` in either build writes the seed corpus and exits.
    static func seedDirectory(_ arguments: [String]) -> String? {
        arguments.count == 3 && arguments[1] == "--write-seeds" ? arguments[2] : nil
    }
}

#if COFFER_FUZZ
import CLibFuzzer

/// libFuzzer's per-input callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // Sound: libFuzzer passes `size` readable bytes at `data` for the duration of this call,
    // and they are copied into an Array before use.
    guard let data, size > 0 else {
        KBSParsers.run([])
        return 0
    }
    KBSParsers.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// The entry point in the fuzzing build (see Fuzz/EvidenceFuzz: SwiftPM's `main=kbs_fuzz_main`).
@_cdecl("kbs_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if let directory = KBSParsers.seedDirectory(CommandLine.arguments) { return KBSParsers.writeSeeds(directory) }
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without the fuzzer: replays the files named on the command line through the same parsers,
/// or writes the seed corpus (`--write-seeds DIR`).
@main
enum KBSReplay {
    static func main() {
        if let directory = KBSParsers.seedDirectory(CommandLine.arguments) { exit(KBSParsers.writeSeeds(directory)) }
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("kbs-fuzz: cannot read \(path)\n".utf8))
                exit(2)
            }
            KBSParsers.run(Array(data))
            print("kbs-fuzz: \(path): parsed without a crash")
        }
    }
}
#endif
