import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP/1.1 keep-alive connection to the KBS (TLS unless the URL is `http:`), one request
/// at a time — how a Trustee client carries its auth, attest and resource requests. Leaner than
/// `KBSClient`'s pooled AsyncHTTPClient, so the load generator of `kbs-bench` leaves the CPU to
/// the server it measures.
public final class KBSConnection: KBSTransport {
    let channel: any Channel
    let collector: ResponseCollector
    let host: String

    /// `sourceAddress` binds the local end to that IP (e.g. `127.0.0.2`, to test per-address bounds on loopback).
    public static func connect(url: String, trustedCertificatePEM: String?, sourceAddress: String? = nil,
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> KBSConnection {
        guard let parsed = URL(string: url), let scheme = parsed.scheme, let host = parsed.host, let port = parsed.port else {
            throw KBSClientError("KBS URL \(url) must be http(s)://HOST:PORT")
        }
        let context: NIOSSLContext?
        if scheme == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let trustedCertificatePEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trustedCertificatePEM.utf8)))
            }
            context = try NIOSSLContext(configuration: tls)
        } else {
            context = nil
        }
        let collector = ResponseCollector()
        /// An IP literal is checked against the certificate's IP SANs (NIOSSL uses the socket
        /// address when no server name is given); a name is checked and sent as SNI.
        let serverName: String? = host.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) ? nil : host
        var bootstrap = ClientBootstrap(group: group)
        if let sourceAddress { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceAddress, port: 0)) }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                        try channel.pipeline.syncOperations.addHandler(WriteCoalescer())
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: host, port: port).get()
        return KBSConnection(channel: channel, collector: collector, host: "\(host):\(port)")
    }

    init(channel: any Channel, collector: ResponseCollector, host: String) {
        self.channel = channel
        self.collector = collector
        self.host = host
    }

    public func send(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> KBSClient.Reply {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: host)
        if let body {
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) {
                head.headers.add(name: "Content-Type", value: "application/json")
            }
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let channel = self.channel, collector = self.collector, request = head
        return try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<KBSClient.Reply> in
            // A closed channel would never answer (its handler already failed what was waiting).
            guard channel.isActive else { return channel.eventLoop.makeFailedFuture(KBSClientError("the connection to the KBS is closed")) }
            let promise = channel.eventLoop.makePromise(of: KBSClient.Reply.self)
            collector.pending.append(promise)
            channel.write(HTTPClientRequestPart.head(request), promise: nil)
            if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            return promise.futureResult
        }.get()
    }

    public func close() async { try? await channel.close() }
}

/// Gathers each response and completes the oldest waiting request. Touched only on its
/// channel's event loop (handler callbacks and `flatSubmit`), hence unchecked Sendable.
final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    var pending: [EventLoopPromise<KBSClient.Reply>] = []
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let value):
            head = value
            body.removeAll(keepingCapacity: true)
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head, !pending.isEmpty else { return }
            pending.removeFirst().succeed(KBSClient.Reply(status: Int(head.status.code), body: Data(body),
                                                          headers: head.headers.map { ($0.name, $0.value) }))
            self.head = nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(KBSClientError("the KBS closed the connection"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        let waiting = pending
        pending = []
        for promise in waiting { promise.fail(error) }
    }
}
