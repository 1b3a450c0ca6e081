import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The broker's PostgreSQL client with every wait bounded. `PostgresClient` never fails a query
/// it cannot get a connection for: with the server down or unreachable it retries connecting
/// forever and the query waits with it (vapor/postgres-nio#489). A broker must instead answer
/// its client with an error naming the database, so every statement here gets `deadline`.
/// Each statement's rows are read to the end before it returns: a row sequence left unread
/// holds its connection.
struct BoundedPostgres: Sendable {
    let client: PostgresClient
    /// The URL without its password, for messages.
    let name: String
    /// Longer than any statement the broker runs takes on a live server, short enough that a
    /// client of a broker whose database is gone gets an answer.
    static let deadline: Duration = .seconds(15)

    func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let client = client
        return try await within(Self.deadline, KBSStoreError("\(name): PostgreSQL did not answer within \(Self.deadline) (is it up and reachable?)")) {
            try await client.query(query).collect()
        }
    }

    func perform(_ query: PostgresQuery) async throws { _ = try await self.query(query) }
}

/// `body`'s result, or `timeout` thrown once `limit` has passed: the caller is answered even if
/// `body` never returns (it is cancelled and left to finish on its own).
func within<T: Sendable>(_ limit: Duration, _ failure: KBSStoreError, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let once = Once(continuation)
        let timer = Task {
            try? await Task.sleep(for: limit)
            guard !Task.isCancelled else { return }
            once.take()?.resume(throwing: failure)
        }
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            timer.cancel()
            once.take()?.resume(with: result)
        }
    }
}

/// A continuation that is resumed at most once, by whichever of two tasks comes first.
private final class Once<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>
    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }
    func take() -> CheckedContinuation<T, any Error>? { continuation.withLock { $0.take() } }
}

extension Array where Element == PostgresRow {
    func decode<each T: PostgresDecodable>(_ type: (repeat each T).Type) throws -> [(repeat each T)] {
        try map { try $0.decode((repeat each T).self) }
    }
}
