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
    /// Each statement's bound (`PostgresStore.defaultDeadline` unless the store was opened with another).
    let bound: DeadlineBound

    func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let client = client
        let deadline = bound.value
        return try await within(deadline, KBSStoreError("\(name): PostgreSQL did not answer within \(deadline) (is it up and reachable?)")) {
            try await client.query(query).collect()
        }
    }

    func perform(_ query: PostgresQuery) async throws { _ = try await self.query(query) }
}

/// A store's statement bound, shared by its copies of `BoundedPostgres`. Tests on a loaded
/// machine lengthen it: the bound is wall time, and a starved concurrency pool can delay a
/// statement's continuation past it while the server itself answered at once.
final class DeadlineBound: Sendable {
    private let current: Mutex<Duration>
    init(_ value: Duration) { current = Mutex(value) }
    var value: Duration {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
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
