import Foundation
import Synchronization

/// Group commit for audit records: concurrent `record` calls that arrive while a write is in
/// flight are written together by the next single multi-row INSERT (one statement, one fsync).
/// Every caller still returns only after its own record is durable, so a released secret is
/// never missing from the log after a crash — it just shares the fsync with its neighbours.
final class AuditBatch: Sendable {
    typealias Flush = @Sendable ([Decision]) async throws -> Void

    private struct Pending {
        var decisions: [Decision] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var flushing = false
    }
    private let pending = Mutex(Pending())
    private let flush: Flush
    static let maxRows = 500

    init(flush: @escaping Flush) { self.flush = flush }

    func record(_ decision: Decision) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startFlusher = pending.withLock { state in
                state.decisions.append(decision)
                state.waiters.append(continuation)
                guard !state.flushing else { return false }
                state.flushing = true
                return true
            }
            if startFlusher { Task { await self.drain() } }
        }
    }

    /// Writes batches until nothing is pending; exactly one drain runs at a time.
    private func drain() async {
        while true {
            let batch: ([Decision], [CheckedContinuation<Void, any Error>])? = pending.withLock { state in
                guard !state.decisions.isEmpty else { state.flushing = false; return nil }
                let n = min(state.decisions.count, Self.maxRows)
                let taken = (Array(state.decisions.prefix(n)), Array(state.waiters.prefix(n)))
                state.decisions.removeFirst(n)
                state.waiters.removeFirst(n)
                return taken
            }
            guard let (decisions, waiters) = batch else { return }
            do {
                try await flush(decisions)
                for waiter in waiters { waiter.resume() }
            } catch {
                for waiter in waiters { waiter.resume(throwing: error) }
            }
        }
    }
}
