import CofferCore

/// What went wrong while reading an OCI image layout or a `docker save` archive.
public enum OCIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path is neither an OCI image layout nor a `docker save` archive.
    case notAnImage(path: String, reason: String)
    /// A document (index, manifest, config, manifest.json) is not what the specification says.
    case malformedDocument(document: String, reason: String)
    /// A blob the image refers to is absent.
    case missingBlob(digest: String, path: String)
    /// A blob's content does not hash to its digest: the image was altered or damaged.
    case digestMismatch(blob: String, expected: String, actual: String)
    /// A blob's size differs from its descriptor's.
    case sizeMismatch(blob: String, expected: Int64, actual: Int64)
    /// A digest that is malformed or uses an algorithm other than sha256.
    case unsupportedDigest(String)
    /// A manifest, index or layer media type Coffer does not read.
    case unsupportedMediaType(mediaType: String, role: String, detail: String)
    /// An index that lists no manifest for linux/amd64.
    case noMatchingPlatform(document: String, available: [String])

    public var description: String {
        switch self {
        case let .notAnImage(path, reason):
            return "\(path) is not an OCI image layout or docker save archive: \(reason)"
        case let .malformedDocument(document, reason):
            return "malformed \(document): \(reason)"
        case let .missingBlob(digest, path):
            return "blob \(digest) is missing (expected at \(path))"
        case let .digestMismatch(blob, expected, actual):
            return "blob \(blob) does not match its digest: expected \(expected), content hashes to \(actual)"
        case let .sizeMismatch(blob, expected, actual):
            return "blob \(blob) has \(actual) bytes, its descriptor says \(expected)"
        case let .unsupportedDigest(digest):
            return "unsupported digest '\(digest)' (Coffer verifies sha256 digests of 64 hex digits)"
        case let .unsupportedMediaType(mediaType, role, detail):
            return "unsupported \(role) media type \(mediaType)\(detail.isEmpty ? "" : " (\(detail))")"
        case let .noMatchingPlatform(document, available):
            return "\(document) has no linux/amd64 image (it has: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        }
    }

    /// The same failure as the `CofferError` shown at the edge.
    public var cofferError: CofferError {
        switch self {
        case .digestMismatch, .sizeMismatch:
            return CofferError(.integrity, description)
        case .unsupportedDigest, .unsupportedMediaType, .noMatchingPlatform:
            return CofferError(.unsupported, description)
        case .missingBlob:
            return CofferError(.notFound, description)
        case .notAnImage, .malformedDocument:
            return CofferError(.invalidInput, description)
        }
    }
}

extension OCIError: CofferErrorConvertible {}
