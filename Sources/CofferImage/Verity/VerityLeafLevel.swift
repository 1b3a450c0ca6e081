import Dispatch
import Foundation
import Synchronization

/// Hashes every data block into the leaf level (level 0) of the tree: the only stage that reads
/// the whole data file, so it runs on every core. Each worker owns one read buffer for its whole
/// life (no per-block buffers), claims chunks of a few MiB from a shared counter, reads a chunk
/// with `pread` and writes each block's digest into its own slot of the tree, so workers never
/// touch the same bytes.
enum VerityLeafLevel {
    /// Bytes read per `pread`: large enough that system-call cost vanishes, small enough that the
    /// two workers finish together.
    static let chunkBytes = 4 << 20

    static func hash(
        data: VerityFile, geometry: VerityGeometry, hasher: VerityHasher,
        tree: UnsafeMutableRawBufferPointer, progress: (@Sendable (Int64) -> Void)?
    ) throws(VerityError) {
        guard let treeBase = tree.baseAddress, !geometry.levels.isEmpty else { return }
        let slots = DigestSlots(base: treeBase)
        let blockSize = geometry.dataBlockSize
        let chunkBlocks = Int64(max(1, chunkBytes / blockSize))
        let chunkCount = Int((geometry.dataBlocks + chunkBlocks - 1) / chunkBlocks)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, chunkCount))
        let nextChunk = Atomic<Int>(0)
        let bytesDone = Atomic<Int64>(0)
        let failure = Mutex<VerityError?>(nil)

        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let buffer = UnsafeMutableRawBufferPointer.allocate(
                byteCount: Int(chunkBlocks) * blockSize, alignment: 4096)
            defer { buffer.deallocate() }
            while failure.withLock({ $0 == nil }) {
                let chunk = nextChunk.add(1, ordering: .relaxed).oldValue
                guard chunk < chunkCount else { return }
                let first = Int64(chunk) * chunkBlocks
                let count = Int(min(chunkBlocks, geometry.dataBlocks - first))
                let bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count * blockSize])
                do throws(VerityError) {
                    try data.read(into: bytes, at: first * Int64(blockSize))
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                    return
                }
                for i in 0..<count {
                    let block = UnsafeRawBufferPointer(rebasing: bytes[i * blockSize..<(i + 1) * blockSize])
                    // Sound: digestOffset(level: 0, index:) is within the tree buffer, which was
                    // sized from the same geometry, and no other worker writes this slot.
                    hasher.hash(block, into: slots.base + geometry.digestOffset(level: 0, index: first + Int64(i)))
                }
                let total = bytesDone.add(Int64(count * blockSize), ordering: .relaxed).newValue
                progress?(total)
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }
}

/// The tree buffer shared by the workers. Sound to send: each worker writes only the digest slots
/// of the chunks it claimed, the buffer outlives `concurrentPerform`, and nobody reads it until
/// every worker has returned.
private struct DigestSlots: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
}
