import CofferCore

/// What went wrong while reading or extracting a tar archive. Every case names the archive and,
/// where there is one, the member, so that a user can find the bad input.
public enum ArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(archive: String, reason: String)
    /// The gzip stream is damaged (bad header, bad CRC, bad deflate data, cut short).
    case corruptGzip(archive: String, reason: String)
    /// The archive uses a compression Coffer does not inflate.
    case unsupportedCompression(archive: String, format: String)
    /// The archive ended in the middle of a header or a member's data.
    case truncated(archive: String, detail: String)
    /// A header block's checksum does not match its contents.
    case badChecksum(archive: String, offset: UInt64)
    /// A header field or extended header could not be parsed.
    case malformedHeader(archive: String, member: String, detail: String)
    /// The member has a type Coffer does not extract.
    case unsupportedMemberType(archive: String, member: String, type: String)
    /// The member would land outside the root, or links outside it, or otherwise is not safe.
    case unsafeMember(archive: String, member: String, reason: String)
    /// Creating a member in the root failed.
    case extractionFailed(archive: String, member: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(archive, reason):
            return "cannot read archive \(archive): \(reason)"
        case let .corruptGzip(archive, reason):
            return "corrupt gzip data in \(archive): \(reason)"
        case let .unsupportedCompression(archive, format):
            return "unsupported compression in \(archive): \(format) (Coffer reads plain and gzip tar)"
        case let .truncated(archive, detail):
            return "truncated archive \(archive): \(detail)"
        case let .badChecksum(archive, offset):
            return "bad header checksum in \(archive) at byte offset \(offset) (not a tar archive, or damaged)"
        case let .malformedHeader(archive, member, detail):
            return "malformed header for member '\(member)' in \(archive): \(detail)"
        case let .unsupportedMemberType(archive, member, type):
            return "member '\(member)' in \(archive) has unsupported type \(type)"
        case let .unsafeMember(archive, member, reason):
            return "refusing member '\(member)' in \(archive): \(reason)"
        case let .extractionFailed(archive, member, reason):
            return "cannot extract member '\(member)' from \(archive): \(reason)"
        }
    }

    /// The same failure as the `CofferError` shown at the edge.
    public var cofferError: CofferError {
        switch self {
        case .unreadable, .extractionFailed:
            return CofferError(.system, description)
        case .unsupportedCompression, .unsupportedMemberType:
            return CofferError(.unsupported, description)
        case .corruptGzip, .truncated, .badChecksum, .malformedHeader, .unsafeMember:
            return CofferError(.invalidInput, description)
        }
    }
}

extension ArchiveError: CofferErrorConvertible {}
