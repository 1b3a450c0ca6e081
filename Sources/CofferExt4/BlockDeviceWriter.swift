#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the formatter writes: a block device, or a file in tests. The formatter only writes; it
/// never reads the device back, so a device the host can tamper with cannot steer it.
public protocol BlockDeviceWriter {
    /// Writes all of `bytes` at byte `offset`.
    func write(_ bytes: [UInt8], at offset: UInt64) throws
    /// Makes every write so far durable.
    func flush() throws
}

/// A `BlockDeviceWriter` over an open file descriptor, with pwrite(2) and fsync(2). The caller
/// owns the descriptor and closes it.
public struct FileDescriptorBlockDevice: BlockDeviceWriter {
    public let descriptor: Int32

    public init(descriptor: Int32) { self.descriptor = descriptor }

    public func write(_ bytes: [UInt8], at offset: UInt64) throws {
        var written = 0
        while written < bytes.count {
            let position = offset + UInt64(written)
            // Sound: the range written lies inside `bytes`, which outlives the call.
            let count = bytes.withUnsafeBytes {
                pwrite(descriptor, $0.baseAddress! + written, $0.count - written, off_t(position))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Ext4Error.io(operation: "pwrite", offset: position, errno: errno)
            }
            if count == 0 { throw Ext4Error.shortWrite(offset: offset, written: written, expected: bytes.count) }
            written += count
        }
    }

    public func flush() throws {
        while fsync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw Ext4Error.io(operation: "fsync", offset: 0, errno: errno)
        }
    }
}
