import NIOCore

/// Joins the byte buffers written between two flushes into one write, placed just above the TLS
/// handler. NIO's HTTP/1 encoders write a message's head and body as separate buffers, and
/// NIOSSL seals every write as its own TLS record; joined, a request or response is one record:
/// one AEAD seal here and one open at the peer instead of two of each, and fewer buffers.
/// Bytes and their order are unchanged; only the record boundaries move.
final class WriteCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private var pending: ByteBuffer?
    private var promises: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .byteBuffer(var buffer):
            if pending == nil {
                pending = buffer
            } else {
                pending!.writeBuffer(&buffer)
            }
            if let promise { promises.append(promise) }
        case .fileRegion:
            // Never sent by the KBS; pass it through in order.
            writePending(context: context)
            context.write(data, promise: promise)
        }
    }

    func flush(context: ChannelHandlerContext) {
        writePending(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        writePending(context: context)
        context.close(mode: mode, promise: promise)
    }

    private func writePending(context: ChannelHandlerContext) {
        guard let buffer = pending else { return }
        pending = nil
        let waiting = promises
        promises = []
        switch waiting.count {
        case 0: context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
        case 1: context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: waiting[0])
        default:
            let joined = context.eventLoop.makePromise(of: Void.self)
            for promise in waiting { joined.futureResult.cascade(to: promise) }
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: joined)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        let waiting = promises
        promises = []
        pending = nil
        for promise in waiting { promise.fail(ChannelError.ioOnClosedChannel) }
    }
}
