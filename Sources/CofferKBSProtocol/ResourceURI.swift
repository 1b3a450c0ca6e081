/// A key broker resource, `kbs:///repository/type/tag` (Trustee's resource URI), or the same
/// three segments as a path (`repository/type/tag`, as the HTTP route carries them).
///
/// One type for both sides: the server validates the path segments of `GET
/// /kbs/v0/resource/<repository>/<type>/<tag>` with it, and a client (the guest agent, next)
/// parses the URI it was measured with. Each segment is 1 to 128 of `[A-Za-z0-9._-]` and not `.`
/// or `..`: the store keys resources by these segments, and a segment that could climb out of a
/// directory or hide a separator would let a policy written for one resource admit another.
public struct ResourceURI: Sendable, Hashable, CustomStringConvertible {
    public let repository: String
    public let type: String
    public let tag: String

    public static let scheme = "kbs://"
    public static let maximumSegmentLength = 128

    /// Why a text is not a resource URI; `description` names the part that is wrong.
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    public init(_ repository: String, _ type: String, _ tag: String) throws(Malformed) {
        for (segment, name) in [(repository, "repository"), (type, "type"), (tag, "tag")] {
            try Self.check(segment, name)
        }
        self.repository = repository
        self.type = type
        self.tag = tag
    }

    /// `kbs:///repository/type/tag`: the scheme, an empty authority, exactly three segments.
    public init(parsing uri: String) throws(Malformed) {
        guard uri.hasPrefix(Self.scheme) else {
            throw Malformed(description: "resource URI \"\(Self.quoted(uri))\" must start with \(Self.scheme)/")
        }
        let rest = uri.dropFirst(Self.scheme.count)
        guard rest.hasPrefix("/") else {
            throw Malformed(description: "resource URI \"\(Self.quoted(uri))\" names a host: use kbs:///repository/type/tag (three slashes)")
        }
        try self.init(path: String(rest.dropFirst()), what: "resource URI \"\(Self.quoted(uri))\"")
    }

    /// `repository/type/tag`, without the scheme.
    public init(path: String) throws(Malformed) { try self.init(path: path, what: "resource \"\(Self.quoted(path))\"") }

    private init(path: String, what: String) throws(Malformed) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw Malformed(description: "\(what) must have three segments, repository/type/tag (it has \(parts.count))") }
        try self.init(parts[0], parts[1], parts[2])
    }

    /// `repository/type/tag`.
    public var path: String { "\(repository)/\(type)/\(tag)" }
    /// `kbs:///repository/type/tag`.
    public var uri: String { "\(Self.scheme)/\(path)" }
    public var description: String { path }

    private static func check(_ segment: String, _ name: String) throws(Malformed) {
        guard !segment.isEmpty else { throw Malformed(description: "resource \(name) segment is empty") }
        guard segment.utf8.count <= maximumSegmentLength else {
            throw Malformed(description: "resource \(name) segment is longer than \(maximumSegmentLength) bytes")
        }
        guard segment != ".", segment != ".." else { throw Malformed(description: "resource \(name) segment \"\(segment)\" is not allowed") }
        guard segment.utf8.allSatisfy(allowed) else {
            throw Malformed(description: "resource \(name) segment \"\(quoted(segment))\" is invalid: use letters, digits, '-', '_' and '.'")
        }
    }

    private static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): true
        default: false
        }
    }

    /// At most 64 characters of hostile text in a message.
    private static func quoted(_ text: String) -> String { String(text.prefix(64)) }
}
