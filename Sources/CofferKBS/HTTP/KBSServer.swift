import CofferKBSProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import CofferJSON

/// The HTTP face of the `KeyBroker`: Trustee's routes under `/kbs/v0`, plus Coffer's admin routes.
/// Every failure is a JSON `ErrorInformation` with a 4xx (or 503) status; bodies are capped.
public struct KBSServer: Sendable {
    public let broker: KeyBroker
    public let admin: AdminAuthenticator?
    public var bodyLimit: Int
    /// Served over HTTPS: the session cookie carries `Secure` (over plain HTTP it must not, or a
    /// client's cookie store would never send it back).
    public var secureCookies: Bool

    public init(broker: KeyBroker, admin: AdminAuthenticator?, bodyLimit: Int = 256 * 1024, secureCookies: Bool = true) {
        self.broker = broker
        self.admin = admin
        self.bodyLimit = bodyLimit
        self.secureCookies = secureCookies
    }

    public func router() -> Router<KBSRequestContext> {
        let router = Router(context: KBSRequestContext.self)
        let kbs = router.group("kbs/v0")
        kbs.post("auth") { request, context in await respond { try await self.auth(request, source: context.source) } }
        kbs.post("attest") { request, _ in await respond { try await self.attest(request) } }
        kbs.get("resource/:repository/:type/:tag") { request, context in
            await respond { try await self.getResource(request, context) }
        }
        adminRoutes(kbs)
        kbs.get("signing-key") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/x-pem-file"],
                     body: .init(byteBuffer: ByteBuffer(string: broker.publicKey.pemRepresentation)))
        }
        return router
    }

    func auth(_ request: Request, source: String) async throws -> Response {
        let body = try KBSRequest(json: try await parse(request, "Request"))
        let now = Date()
        let (session, challenge) = try await broker.auth(body, source: source, now: now)
        var response = Self.json(status: .ok, challenge.json)
        response.headers[.setCookie] = sessionCookie(session, expiry: now.addingTimeInterval(broker.configuration.sessionLifetime))
        return response
    }

    /// `kbs-session-id` (see `SessionCookie`).
    func sessionCookie(_ session: String, expiry: Date) -> String {
        return SessionCookie.header(session: session, expiry: expiry, maxAge: Int(broker.configuration.sessionLifetime), secure: secureCookies)
    }

    func attest(_ request: Request) async throws -> Response {
        let body = try KBSAttestation(json: try await parse(request, "Attestation"))
        let session = request.cookies[KBSProtocol.sessionCookie]?.value
        let (token, expiry) = try await broker.attestSession(session, body, now: Date())
        var response = Self.json(status: .ok, AttestationTokenResponse(token: token).json)
        // Trustee sets the cookie again on a successful attest; so does Coffer.
        if let session { response.headers[.setCookie] = sessionCookie(session, expiry: expiry) }
        return response
    }

    func getResource(_ request: Request, _ context: KBSRequestContext) async throws -> Response {
        let path = try Self.path(context)
        let credential: KeyBroker.Credential?
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            credential = .token(String(authorization.dropFirst(7)))
        } else if let session = request.cookies[KBSProtocol.sessionCookie]?.value {
            credential = .session(session)
        } else {
            credential = nil
        }
        let release = try await broker.resource(path, credential: credential, now: Date())
        let body = CanonicalJSON.serialize(release.jwe.json)
        let signature = try broker.signResource(body: body, path: path, teePubkey: release.teePubkey)
        return Response(status: .ok, headers: [.contentType: "application/json", Self.signatureHeader: signature],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The header carrying the broker's `ResourceSignature` (version 2; its name has one home there).
    public static let signatureHeader = HTTPField.Name(ResourceSignature.header)!

    static func path(_ context: KBSRequestContext) throws(KBSFailure) -> ResourceURI {
        try ResourceURI(segments: context.parameters.get("repository") ?? "", context.parameters.get("type") ?? "", context.parameters.get("tag") ?? "")
    }

    func collect(_ request: Request) async throws(KBSFailure) -> ByteBuffer {
        do { return try await request.body.collect(upTo: bodyLimit) } catch {
            throw KBSFailure(status: 413, kind: "PayloadTooLarge", detail: "request body exceeds \(bodyLimit) bytes")
        }
    }

    func decode<T: Decodable>(_ request: Request, _ what: String) async throws(KBSFailure) -> T {
        let buffer = try await collect(request)
        do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch {
            throw .malformedJSON("malformed \(what) JSON: \(Self.describe(error))")
        }
    }

    /// An RCAR body as a `JSONValue` (its fields are then read by the message's `init(json:)`).
    func parse(_ request: Request, _ what: String) async throws(KBSFailure) -> JSONValue {
        let buffer = try await collect(request)
        do { return try JSONValue.parse(Array(buffer.readableBytesView)) } catch {
            throw .malformedJSON("malformed \(what) JSON: not valid JSON (\(error.description))")
        }
    }

    func storeCall<T>(_ body: () async throws -> T) async throws(KBSFailure) -> T {
        do { return try await body() } catch { throw .unavailable("store unavailable; retry") }
    }

    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: "missing field \"\(path(context.codingPath + [key]))\""
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?: "wrong type at \"\(path(context.codingPath))\""
        case .dataCorrupted(let context)?: context.codingPath.isEmpty ? "not valid JSON" : "invalid \"\(path(context.codingPath))\": \(context.debugDescription)"
        default: "not valid JSON"
        }
    }

    static func path(_ keys: [any CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }

    /// A protocol message or error: canonical JSON, built without Foundation's encoder.
    static func json(status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.serialize(value))))
    }

    static func json(status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Runs a handler and turns every thrown failure (a `KBSFailure`, or a protocol message's
/// `KBSProtocolError` as `KBSFailure(_:)` maps it) into its JSON 4xx; anything unforeseen becomes a
/// 400 naming the request as unprocessable rather than a 500 (no internal detail leaks).
func respond(_ body: () async throws -> Response) async -> Response {
    do { return try await body() } catch let failure as KBSFailure {
        return KBSServer.json(status: .init(code: failure.status), failure.information.json)
    } catch let error as KBSProtocolError {
        // A message the protocol module could not read (its fields, named): 400 as before the split.
        let failure = KBSFailure(error)
        return KBSServer.json(status: .init(code: failure.status), failure.information.json)
    } catch {
        return KBSServer.json(status: .badRequest, KBSFailure.badRequest("request could not be processed").information.json)
    }
}
