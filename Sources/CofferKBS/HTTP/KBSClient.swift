import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal RCAR client over HTTP (`coffer kbs client`, tests, the benchmark): auth → attest →
/// resource, handling the `kbs-session-id` cookie itself.
public final class KBSClient: Sendable {
    public let baseURL: String
    let session: URLSession

    public init(baseURL: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration)
    }

    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        public var headers: [String: String]

        public func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }

        public var error: ErrorInformation? { try? JSONDecoder().decode(ErrorInformation.self, from: body) }
    }

    public func send(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        guard let url = URL(string: baseURL + path) else { throw KBSClientError("bad URL \(baseURL + path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw KBSClientError("not an HTTP response") }
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { if let k = k as? String, let v = v as? String { fields[k] = v } }
        return Reply(status: http.statusCode, body: data, headers: fields)
    }

    /// The session id from a `Set-Cookie: kbs-session-id=…` reply.
    public static func sessionID(_ reply: Reply) -> String? {
        guard let cookie = reply.header("Set-Cookie") else { return nil }
        for part in cookie.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(KBSProtocol.sessionCookie + "=") { return String(pair.dropFirst(KBSProtocol.sessionCookie.count + 1)) }
        }
        return nil
    }

    public struct Handshake: Sendable {
        public var session: String
        public var token: String
    }

    /// auth → attest with evidence made by `evidence(runtimeData, hash)`.
    public func handshake(tee: String, key: TEEKeyPair,
                          evidence: (RuntimeData, BindingHash) throws -> CompositeEvidence) async throws -> Handshake {
        let request = KBSRequest(tee: tee, extraParams: .object([KBSProtocol.supportedHashAlgorithmsKey: .array([.string("sha256"), .string("sha384"), .string("sha512")])]))
        let auth = try await send("POST", "/kbs/v0/auth", body: try JSONEncoder().encode(request))
        guard auth.status == 200, let session = Self.sessionID(auth) else { throw KBSClientError.reply("auth", auth) }
        let challenge = try JSONDecoder().decode(KBSChallenge.self, from: auth.body)
        let hash = challenge.extraParams[KBSProtocol.selectedHashAlgorithmKey]?.stringValue.flatMap { BindingHash(rawValue: $0.lowercased()) } ?? .sha384
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: key.publicKey)
        let attestation = KBSAttestation(runtimeData: runtime, teeEvidence: try evidence(runtime, hash))
        let attest = try await send("POST", "/kbs/v0/attest", body: try JSONEncoder().encode(attestation),
                                    headers: ["Cookie": "\(KBSProtocol.sessionCookie)=\(session)"])
        guard attest.status == 200 else { throw KBSClientError.reply("attest", attest, session: session) }
        return Handshake(session: session, token: try JSONDecoder().decode(AttestationTokenResponse.self, from: attest.body).token)
    }

    /// GET a resource with the session cookie and decrypt it.
    public func resource(_ path: String, session: String, key: TEEKeyPair) async throws -> (plaintext: [UInt8], reply: Reply) {
        let reply = try await send("GET", "/kbs/v0/resource/\(path)", headers: ["Cookie": "\(KBSProtocol.sessionCookie)=\(session)"])
        guard reply.status == 200 else { throw KBSClientError.reply("resource", reply, session: session) }
        let jwe = try JSONDecoder().decode(JWEResponse.self, from: reply.body)
        return (try key.decrypt(jwe), reply)
    }
}

public struct KBSClientError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public var status: Int?
    public var information: ErrorInformation?
    public var session: String?

    init(_ description: String) { self.description = description }

    static func reply(_ step: String, _ reply: KBSClient.Reply, session: String? = nil) -> KBSClientError {
        var error = KBSClientError("\(step) refused (HTTP \(reply.status)): \(reply.error?.detail ?? String(decoding: reply.body.prefix(300), as: UTF8.self))")
        error.status = reply.status
        error.information = reply.error
        error.session = session
        return error
    }
}
