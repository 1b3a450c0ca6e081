import Foundation
import NIOSSL
import PostgresNIO

/// `coffer kbs serve --database URL`: `postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?sslmode=MODE]`,
/// or a unix socket as libpq spells it, `postgres://USER@/DATABASE?host=/socket/dir` (the socket
/// is `DIR/.s.PGSQL.PORT`). `sslmode` is `disable`, `prefer` (libpq's default), `require` or
/// `verify-full` (the two last check the server's certificate against the system roots).
public struct PostgresDatabaseURL: Sendable, CustomStringConvertible {
    public var configuration: PostgresClient.Configuration
    /// The same server for one connection of its own (`PostgresStore.open` connects once first,
    /// so that a refusal is reported in the server's words rather than retried by the pool).
    var probe: PostgresConnection.Configuration
    /// The URL without its password, for messages and logs.
    public var description: String

    public init(_ text: String) throws(KBSStoreError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw KBSStoreError("--database \(Self.redact(text)): expected postgres://USER@HOST:PORT/DATABASE")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        if let unknown = query.keys.first(where: { !["host", "port", "sslmode", "user", "password"].contains($0) }) {
            throw KBSStoreError("--database: unknown parameter \(unknown) (known: host, port, sslmode, user, password)")
        }
        let user = components.user.flatMap { $0.removingPercentEncoding } ?? query["user"] ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding } ?? query["password"]
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty else { throw KBSStoreError("--database \(Self.redact(text)): name the database (postgres://…/DATABASE)") }
        let port = components.port ?? query["port"].map({ Int($0) ?? -1 }) ?? 5432
        guard (1...65535).contains(port) else {
            throw KBSStoreError("--database \(Self.redact(text)): the port is not a number from 1 to 65535")
        }
        let socketDirectory = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? query["host"].flatMap { $0.hasPrefix("/") ? nil : $0 }
        if let socketDirectory {
            configuration = .init(unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
            probe = .init(unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            guard let host else { throw KBSStoreError("--database \(Self.redact(text)): no host (or ?host=/socket/directory)") }
            let tls: PostgresClient.Configuration.TLS
            let probeTLS: PostgresConnection.Configuration.TLS
            do {
                switch query["sslmode"] ?? "prefer" {
                case "disable": (tls, probeTLS) = (.disable, .disable)
                case "prefer": (tls, probeTLS) = (.prefer(.makeClientConfiguration()), .prefer(try NIOSSLContext(configuration: .makeClientConfiguration())))
                case "require", "verify-full":
                    (tls, probeTLS) = (.require(.makeClientConfiguration()), .require(try NIOSSLContext(configuration: .makeClientConfiguration())))
                case let other: throw KBSStoreError("--database: sslmode \(other) is not one of disable, prefer, require, verify-full")
                }
            } catch let error as KBSStoreError {
                throw error
            } catch {
                throw KBSStoreError("--database: cannot set up TLS: \(error)")
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
            probe = .init(host: host, port: port, username: user, password: password, database: database, tls: probeTLS)
        }
        configuration.options.connectTimeout = .seconds(5)
        probe.options.connectTimeout = .seconds(5)
        description = Self.redact(text)
    }

    /// Security: a password in the URL is never printed.
    static func redact(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return "(unparsable URL)" }
        if components.password != nil { components.password = "***" }
        if let items = components.queryItems { components.queryItems = items.map { $0.name == "password" ? URLQueryItem(name: "password", value: "***") : $0 } }
        return components.string ?? "(unparsable URL)"
    }
}

/// A store that cannot be opened or used, in words an operator can act on.
public struct KBSStoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
