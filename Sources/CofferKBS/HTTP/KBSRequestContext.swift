import Hummingbird
import NIOCore

/// Hummingbird's basic request context plus the connection's remote address, by which the broker
/// bounds unauthenticated sessions per client (`SessionLimits`).
///
/// Security: the source is the TCP peer, never a header. Behind a reverse proxy every client has
/// the proxy's address (and shares its per-source bound); `X-Forwarded-For` is not trusted, since
/// any client could set it to escape its bound or to spend another's.
public struct KBSRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address without the port ("" if the channel has none, e.g. a test channel).
    public var source: String { remoteAddress?.ipAddress ?? "" }
}
