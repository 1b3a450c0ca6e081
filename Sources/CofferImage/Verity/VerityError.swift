import CofferCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a dm-verity hash tree could not be built or did not verify. Every case names the file and
/// says what was wrong, so the message can be shown to a user as it is.
public enum VerityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The data file's size is not a whole number of data blocks (dm-verity maps whole blocks only).
    case sizeNotBlockMultiple(path: String, size: Int64, blockSize: Int)
    /// The data file is empty: there is nothing to protect.
    case emptyData(path: String)
    /// The salt, UUID or block sizes cannot be written in a version 1 superblock.
    case invalidParameters(String)
    /// An operating-system call on a file failed.
    case io(path: String, operation: String, errno: Int32)
    /// The hash file's superblock is not one Coffer writes (wrong magic, version, algorithm...).
    case badSuperblock(path: String, reason: String)
    /// The hash file's size is not the size the tree for this data needs.
    case hashFileSize(path: String, expected: Int64, actual: Int64)
    /// The data file's size disagrees with the data block count recorded in the superblock.
    case dataSizeMismatch(path: String, expected: Int64, actual: Int64)
    /// A stored hash block differs from the one recomputed from the data.
    case treeMismatch(path: String, region: String)
    /// The recomputed root hash is not the expected one.
    case rootHashMismatch(expected: String, computed: String)

    public var description: String {
        switch self {
        case .sizeNotBlockMultiple(let path, let size, let blockSize):
            "\(path): size \(size) bytes is not a multiple of the \(blockSize)-byte dm-verity data block"
        case .emptyData(let path):
            "\(path): data file is empty; dm-verity needs at least one block"
        case .invalidParameters(let reason):
            "invalid dm-verity parameters: \(reason)"
        case .io(let path, let operation, let errno):
            "\(path): \(operation) failed: \(String(cString: strerror(errno)))"
        case .badSuperblock(let path, let reason):
            "\(path): not a Coffer dm-verity hash file: \(reason)"
        case .hashFileSize(let path, let expected, let actual):
            "\(path): hash file is \(actual) bytes, the tree for this data needs \(expected)"
        case .dataSizeMismatch(let path, let expected, let actual):
            "\(path): data is \(actual) bytes but the hash superblock records \(expected)"
        case .treeMismatch(let path, let region):
            "\(path): \(region) does not match the data (image tampered with or corrupt)"
        case .rootHashMismatch(let expected, let computed):
            "dm-verity root hash is \(computed), expected \(expected)"
        }
    }
}


extension VerityError {
    /// The edge form: bad input is the user's to fix, a mismatch is an integrity failure.
    public var cofferError: CofferError {
        switch self {
        case .sizeNotBlockMultiple, .emptyData, .invalidParameters: CofferError(.invalidInput, description, cause: self)
        case .io: CofferError(.system, description, cause: self)
        case .badSuperblock, .hashFileSize, .dataSizeMismatch, .treeMismatch, .rootHashMismatch:
            CofferError(.integrity, description, cause: self)
        }
    }
}

extension VerityError: CofferErrorConvertible {}
