import CofferCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why an ext4 file system could not be made. Every case says what was wrong with which input.
public enum Ext4Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// The device size is outside what the formatter writes.
    case sizeOutOfRange(size: UInt64)
    /// The label does not fit the superblock's 16-byte s_volume_name.
    case labelTooLong(bytes: Int)
    /// The UUID is not 16 bytes.
    case uuidLength(Int)
    /// The UUID is all zeros, which the tools read as "no UUID".
    case nullUUID
    /// A write or flush on the device failed.
    case io(operation: String, offset: UInt64, errno: Int32)
    /// The device took fewer bytes than given and no error.
    case shortWrite(offset: UInt64, written: Int, expected: Int)

    public var description: String {
        switch self {
        case .sizeOutOfRange(let size):
            "ext4: cannot format a device of \(size) bytes: the size must be at least 16 MiB "
                + "(\(Ext4.minimumSize) bytes) and below 16 TiB (\(Ext4.sizeLimit) bytes, the limit without 64-bit block numbers)"
        case .labelTooLong(let bytes):
            "ext4: the label is \(bytes) bytes of UTF-8; the superblock holds at most 16"
        case .uuidLength(let count):
            "ext4: the UUID is \(count) bytes; it must be 16"
        case .nullUUID:
            "ext4: the UUID is all zeros; give the file system a real one"
        case .io(let operation, let offset, let errno):
            "ext4: \(operation) at byte \(offset) failed: \(String(cString: strerror(errno)))"
        case .shortWrite(let offset, let written, let expected):
            "ext4: short write at byte \(offset): \(written) of \(expected) bytes"
        }
    }
}

extension Ext4Error: CofferErrorConvertible {
    /// The edge form: bad parameters are the caller's to fix, I/O is the system's.
    public var cofferError: CofferError {
        switch self {
        case .sizeOutOfRange, .labelTooLong, .uuidLength, .nullUUID: CofferError(.invalidInput, description, cause: self)
        case .io, .shortWrite: CofferError(.system, description, cause: self)
        }
    }
}
