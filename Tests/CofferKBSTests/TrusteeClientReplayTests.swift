@testable import CofferKBS
import CofferCore
import CofferTestSupport
import Crypto
import Foundation
import Testing
import CofferJSON

/// What guest-components' `kbs_protocol` client (the Trustee client) sends and expects, replayed
/// byte for byte against the real `coffer kbs serve` process. No Rust toolchain is installed
/// here, so the real client cannot be built; these requests are derived from its source
/// (confidential-containers/guest-components attestation-agent/kbs_protocol/src/client/
/// rcar_client.rs, token_client.rs, builder.rs, keypair.rs, and the `kbs-types` crate's
/// serde definitions), read at commits 8246e5e0 and 0130f5d1.
@Suite(.serialized) struct TrusteeClientReplayTests {
    /// reqwest's default headers plus the client's `user_agent` and its explicit Content-Type.
    static let clientHeaders = ["user-agent": "attestation-agent-kbs-client/0.1.0", "accept": "*/*"]
    static let measurement = [UInt8](repeating: 0x5C, count: 48)
    /// An init-data document as Kata hands it to the guest (TOML, initdata.md "TOML version").
    static let initData = """
        algorithm = "sha384"
        version = "0.1.0"

        [data]
        "aa.toml" = '''
        [token_configs.kbs]
        url = "https://127.0.0.1:8080"
        '''
        """

    /// The client's cookie store (reqwest `cookie_store(true)`, RFC 6265): one cookie, kept with
    /// its attributes, sent back only where its path and `Secure` allow.
    struct CookieJar {
        var name = "", value = "", path = "", secure = false, httpOnly = false, expires: String?, maxAge: Int?

        mutating func store(_ setCookie: String?, requestPath: String) {
            guard let setCookie else { return }
            let parts = setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let pair = parts.first, let eq = pair.firstIndex(of: "=") else { return }
            name = String(pair[..<eq])
            value = String(pair[pair.index(after: eq)...])
            // RFC 6265 §5.1.4 default-path: the request path up to its last '/'.
            path = String(requestPath[..<(requestPath.lastIndex(of: "/") ?? requestPath.endIndex)])
            for attribute in parts.dropFirst() {
                let kv = attribute.split(separator: "=", maxSplits: 1).map(String.init)
                switch kv[0].lowercased() {
                case "path": path = kv.count > 1 ? kv[1] : path
                case "secure": secure = true
                case "httponly": httpOnly = true
                case "expires": expires = kv.count > 1 ? kv[1] : nil
                case "max-age": maxAge = kv.count > 1 ? Int(kv[1]) : nil
                default: break
                }
            }
        }

        func header(scheme: String, requestPath: String) -> [String: String] {
            guard !name.isEmpty, requestPath.hasPrefix(path), !secure || scheme == "https" else { return [:] }
            return ["cookie": "\(name)=\(value)"]
        }
    }

    /// `serde_json::to_string` of a `kbs_types::ProtectedHeader`: `alg`, `enc`, then the other
    /// members (a `serde_json::Map`, sorted) — the client recomputes the AAD from this, not from
    /// the bytes it received, so the KBS must have produced exactly these.
    static func serdeProtectedHeader(_ header: JSONValue) throws -> String {
        guard case .object(var members) = header, let alg = members.removeValue(forKey: "alg"),
              let enc = members.removeValue(forKey: "enc") else { throw TestFailure("protected header lacks alg/enc") }
        let rest = String(decoding: CanonicalJSON.serialize(.object(members)), as: UTF8.self)
        let head = "{\"alg\":\(String(decoding: CanonicalJSON.serialize(alg), as: UTF8.self)),\"enc\":\(String(decoding: CanonicalJSON.serialize(enc), as: UTF8.self))"
        return members.isEmpty ? head + "}" : head + "," + rest.dropFirst()
    }

    /// `BASE64_URL_SAFE_NO_PAD.decode`: the URL alphabet only, no padding.
    static func strictBase64URL(_ text: String) -> Data? {
        guard text.utf8.allSatisfy({ c in (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F }) else { return nil }
        return Base64URL.decode(text).map { Data($0) }
    }

    /// auth → attest as the RCAR client does it; returns the jar, the key and the attest reply.
    static func handshake(_ server: KBSServerProcess, initData: String?, hostData: [UInt8] = []) async throws
        -> (jar: CookieJar, key: TEEKeyPair, auth: KBSClient.Reply, attest: KBSClient.Reply) {
        let scheme = server.url.hasPrefix("https") ? "https" : "http"
        var jar = CookieJar()
        // build_request(): Request {version, tee, extra-params} in struct order, the hash list from
        // HashAlgorithm::list_all().
        let request = #"{"version":"0.4.0","tee":"sample","extra-params":{"supported-hash-algorithms":["sha256","sha384","sha512","sm3"]}}"#
        let auth = try await server.client.send("POST", "/kbs/v0/auth", body: Data(request.utf8),
                                                headers: clientHeaders.merging(["content-type": "application/json"]) { a, _ in a })
        #expect(auth.status == 200)
        jar.store(auth.header("set-cookie"), requestPath: "/kbs/v0/auth")
        // Challenge: nonce, extra-params (any JSON); get_hash_algorithm() reads selected-hash-algorithm.
        let challenge = try JSONValue.parse(Array(auth.body))
        let nonce = try #require(challenge["nonce"]?.stringValue)
        let selected = challenge["extra-params"]?["selected-hash-algorithm"]?.stringValue ?? "sha384"
        let hash = try #require(BindingHash(rawValue: selected.lowercased()))
        // TeeKeyPair::new(): P-256, exported as {"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x","y"}.
        let key = TEEKeyPair.ec()
        guard case .ec(let crv, let alg, let x, let y) = key.publicKey else { throw TestFailure("not EC") }
        let runtime = RuntimeData(nonce: nonce, teePubkey: key.publicKey)
        let attester = SampleAttester(launcherKey: server.launcherKey, measurement: measurement, hostData: hostData)
        let evidence = try attester.evidence(runtimeData: runtime, hash: hash)
        let primary = String(decoding: CanonicalJSON.serialize(evidence.primaryEvidence), as: UTF8.self)
        let initDataJSON = initData.map { #"{"format":"toml","body":"# + String(decoding: CanonicalJSON.serialize(.string($0)), as: UTF8.self) + "}" } ?? "null"
        // Attestation in kbs-types field order (kebab case; CompositeEvidence snake case).
        let attestation = #"{"init-data":"# + initDataJSON
            + #","runtime-data":{"nonce":"\#(nonce)","tee-pubkey":{"kty":"EC","crv":"\#(crv)","alg":"\#(alg)","x":"\#(x)","y":"\#(y)"}}"#
            + #","tee-evidence":{"primary_evidence":\#(primary),"additional_evidence":""}}"#
        let attest = try await server.client.send("POST", "/kbs/v0/attest", body: Data(attestation.utf8),
            headers: clientHeaders.merging(["content-type": "application/json"]) { a, _ in a }
                .merging(jar.header(scheme: scheme, requestPath: "/kbs/v0/attest")) { a, _ in a })
        jar.store(attest.header("set-cookie") ?? auth.header("set-cookie"), requestPath: "/kbs/v0/attest")
        return (jar, key, auth, attest)
    }

    /// kbs_types::Response as the client deserialises it, then decrypt_response().
    static func decryptAsTheClientDoes(_ body: Data, key: TEEKeyPair) throws -> [UInt8] {
        let json = try JSONValue.parse(Array(body))
        for field in ["protected", "encrypted_key", "iv", "ciphertext", "tag"] {
            let text = try #require(json[field]?.stringValue, "field \(field)")
            #expect(strictBase64URL(text) != nil, "\(field) is not unpadded base64url")
        }
        let protected = try #require(json["protected"]?.stringValue)
        let header = try JSONValue.parse(Array(try #require(strictBase64URL(protected))))
        #expect(header["epk"]?["crv"]?.stringValue == "P-256")
        // generate_aad(): base64url(serde_json::to_string(&protected)).
        let aad = Base64URL.encode(Array(try serdeProtectedHeader(header).utf8))
        #expect(aad == protected, "the client's recomputed AAD differs from the protected header sent")
        return try key.decrypt(try JWEResponse(json: json))
    }

    static func configure(_ server: KBSServerProcess) async throws {
        try await KBSEndToEndTests.configure(server)
    }

    @Test func theRCARClientSequenceOverHTTPSGetsTheSecret() async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server)
        let digest = BindingHash.sha384.digest(Array(Self.initData.utf8))
        let (jar, key, auth, attest) = try await Self.handshake(server, initData: Self.initData, hostData: Array(digest.prefix(32)))
        // The cookie: kbs-session-id, HttpOnly, Secure (HTTPS), with an expiry.
        #expect(jar.name == "kbs-session-id" && jar.value.count == 32)
        #expect(jar.secure && jar.httpOnly && jar.expires != nil && jar.maxAge == 300)
        #expect(auth.header("content-type") == "application/json")
        // make_nonce(): 32 random bytes, standard base64.
        let nonce = try #require(try JSONValue.parse(Array(auth.body))["nonce"]?.stringValue)
        #expect(Data(base64Encoded: nonce)?.count == 32)
        #expect(attest.status == 200, "\(String(decoding: attest.body, as: UTF8.self))")
        let token = try #require(try JSONValue.parse(Array(attest.body))["token"]?.stringValue)
        #expect(token.split(separator: ".").count == 3)
        // get_resource(): GET with only the cookie store's cookie.
        let path = "/kbs/v0/resource/default/key/disk"
        let resource = try await server.client.send("GET", path, headers: Self.clientHeaders.merging(jar.header(scheme: "https", requestPath: path)) { a, _ in a })
        #expect(resource.status == 200)
        #expect(try Self.decryptAsTheClientDoes(resource.body, key: key) == Array("the-disk-key".utf8))
        // token_client.rs (passport mode): bearer_auth(token), no cookie.
        let byToken = try await server.client.send("GET", path, headers: Self.clientHeaders.merging(["authorization": "Bearer \(token)"]) { a, _ in a })
        #expect(try Self.decryptAsTheClientDoes(byToken.body, key: key) == Array("the-disk-key".utf8))
    }

    @Test func overPlainHTTPTheCookieIsNotSecureSoTheClientSendsIt() async throws {
        let server = try KBSServerProcess(dev: true, tls: false)
        try await Self.configure(server)
        let (jar, key, _, attest) = try await Self.handshake(server, initData: nil)
        #expect(attest.status == 200 && !jar.secure)
        let path = "/kbs/v0/resource/default/key/disk"
        let resource = try await server.client.send("GET", path, headers: Self.clientHeaders.merging(jar.header(scheme: "http", requestPath: path)) { a, _ in a })
        #expect(try Self.decryptAsTheClientDoes(resource.body, key: key) == Array("the-disk-key".utf8))
    }

    @Test func errorsAreErrorInformationTheClientCanRead() async throws {
        let server = try KBSServerProcess(dev: true)
        try await Self.configure(server)
        /// kbs_types::ErrorInformation: {"type", "detail"}; the client reads it on 401 and 404.
        func information(_ reply: KBSClient.Reply) throws -> (type: String, detail: String) {
            let json = try JSONValue.parse(Array(reply.body))
            return (try #require(json["type"]?.stringValue), try #require(json["detail"]?.stringValue))
        }
        let prefix = "https://github.com/confidential-containers/kbs/errors/"
        // An init-data that is not the one the TEE was launched with: refused at attest (401, the
        // status the client parses ErrorInformation on), naming host_data.
        let (_, _, _, attest) = try await Self.handshake(server, initData: Self.initData, hostData: [UInt8](repeating: 7, count: 32))
        #expect(attest.status == 401)
        let refused = try information(attest)
        #expect(refused.type == prefix + "PolicyDeny" && refused.detail.contains("host_data"))
        // A resource request without a session: 401 so the client runs RCAR again.
        let bare = try await server.client.send("GET", "/kbs/v0/resource/default/key/disk", headers: Self.clientHeaders)
        let bareInformation = try information(bare)
        #expect(bare.status == 401 && bareInformation.type == prefix + "TokenNotFound")
        // A version the client would not send.
        let old = try await server.client.send("POST", "/kbs/v0/auth", body: Data(#"{"version":"0.1.1","tee":"tdx","extra-params":""}"#.utf8),
                                               headers: ["content-type": "application/json"])
        let oldInformation = try information(old)
        #expect(old.status == 400 && oldInformation.detail.contains("0.4.0"))
        // Trustee's own "extra-params": "" form (kbs-types tests) is accepted.
        let empty = try await server.client.send("POST", "/kbs/v0/auth", body: Data(#"{"version":"0.4.0","tee":"sample","extra-params":""}"#.utf8),
                                                 headers: ["content-type": "application/json"])
        #expect(empty.status == 200)
    }
}
