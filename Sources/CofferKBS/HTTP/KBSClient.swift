import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import CofferJSON

/// A minimal RCAR client over HTTP(S) (`coffer kbs client`, tests, the benchmark): auth → attest →
/// resource, handling the `kbs-session-id` cookie itself. With `trustedCertificatePEM` it trusts
/// only that certificate (the KBS's self-signed one); otherwise the system roots.
public final class KBSClient: KBSTransport {
    public let baseURL: String
    let http: HTTPClient

    public init(baseURL: String, trustedCertificatePEM: String? = nil, maxConnections: Int = 8, connectTimeout: Int64 = 10) throws {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustedCertificatePEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trustedCertificatePEM.utf8)))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(connectTimeout), read: .seconds(30))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnections)
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// The client shuts itself down when released (the shutdown keeps it alive until done).
    deinit { http.shutdown { _ in } }

    /// Closes the connections now (a server's graceful stop waits for open keep-alive connections).
    public func shutdown() async { try? await http.shutdown() }

    public struct Reply: Sendable {
        public var status: Int
        public var body: Data
        public var headers: [(String, String)]

        public func header(_ name: String) -> String? {
            headers.first { $0.0.utf8.count == name.utf8.count && $0.0.lowercased() == name.lowercased() }?.1
        }

        public var error: ErrorInformation? { try? JSONDecoder().decode(ErrorInformation.self, from: body) }
    }

    public func send(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
        }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        let response = try await http.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Reply(status: Int(response.status.code), body: Data(collected.readableBytesView),
                     headers: response.headers.map { ($0.name, $0.value) })
    }

    public typealias Handshake = KBSHandshake

    /// The session id from a `Set-Cookie: kbs-session-id=…` reply.
    public static func sessionID(_ reply: Reply) -> String? {
        guard let cookie = reply.header("Set-Cookie") else { return nil }
        let prefix = KBSProtocol.sessionCookie + "="
        for part in cookie.split(separator: ";") {
            let pair = part.drop { $0 == " " || $0 == "\t" }
            if pair.hasPrefix(prefix) {
                return String(pair.dropFirst(prefix.count).reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            }
        }
        return nil
    }
}

/// What the RCAR steps need from a connection: one request, its reply. `KBSClient` (pooled,
/// AsyncHTTPClient) and `KBSConnection` (one keep-alive connection) both provide it.
public protocol KBSTransport: Sendable {
    func send(_ method: String, _ path: String, body: Data?, headers: [String: String]) async throws -> KBSClient.Reply
}

public struct KBSHandshake: Sendable {
    public var session: String
    public var token: String
}

extension KBSTransport {
    /// auth → attest with evidence made by `evidence(runtimeData, hash)`, presenting `initData` if given.
    public func handshake(tee: String, key: TEEKeyPair, initData: InitData? = nil,
                          evidence: (RuntimeData, BindingHash) throws -> CompositeEvidence) async throws -> KBSHandshake {
        let request = KBSRequest(tee: tee, extraParams: .object([KBSProtocol.supportedHashAlgorithmsKey: .array([.string("sha256"), .string("sha384"), .string("sha512")])]))
        let auth = try await send("POST", "/kbs/v0/auth", body: Data(CanonicalJSON.serialize(request.json)), headers: [:])
        guard auth.status == 200, let session = KBSClient.sessionID(auth) else { throw KBSClientError.reply("auth", auth) }
        let challenge = try KBSChallenge(json: try JSONValue.parse(Array(auth.body)))
        let hash = challenge.extraParams[KBSProtocol.selectedHashAlgorithmKey]?.stringValue.flatMap { BindingHash(rawValue: $0.lowercased()) } ?? .sha384
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: key.publicKey)
        let attestation = KBSAttestation(initData: initData, runtimeData: runtime, teeEvidence: try evidence(runtime, hash))
        let attest = try await send("POST", "/kbs/v0/attest", body: Data(CanonicalJSON.serialize(attestation.json)),
                                    headers: ["Cookie": "\(KBSProtocol.sessionCookie)=\(session)"])
        guard attest.status == 200 else { throw KBSClientError.reply("attest", attest, session: session) }
        return KBSHandshake(session: session, token: try AttestationTokenResponse(json: try JSONValue.parse(Array(attest.body))).token)
    }

    /// GET a resource with the session cookie and decrypt it.
    public func resource(_ path: String, session: String, key: TEEKeyPair) async throws -> (plaintext: [UInt8], reply: KBSClient.Reply) {
        let reply = try await send("GET", "/kbs/v0/resource/\(path)", body: nil, headers: ["Cookie": "\(KBSProtocol.sessionCookie)=\(session)"])
        guard reply.status == 200 else { throw KBSClientError.reply("resource", reply, session: session) }
        let jwe = try JWEResponse(json: try JSONValue.parse(Array(reply.body)))
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
