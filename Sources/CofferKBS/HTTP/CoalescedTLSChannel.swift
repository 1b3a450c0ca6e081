import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// Hummingbird's HTTP/1 child channel behind TLS, as `HTTPServerBuilder.tls` builds it, with a
/// `WriteCoalescer` between the TLS handler and the HTTP encoder so each response leaves as one
/// TLS record (head and body together) rather than one per encoder write.
struct CoalescedTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let context: NIOSSLContext

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            try channel.pipeline.syncOperations.addHandler(WriteCoalescer())
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 over TLS with coalesced writes (see `CoalescedTLSChannel`).
    static func coalescedTLS(_ configuration: TLSConfiguration) throws -> HTTPServerBuilder {
        let context = try NIOSSLContext(configuration: configuration)
        return .init { responder in CoalescedTLSChannel(base: HTTP1Channel(responder: responder), context: context) }
    }
}
