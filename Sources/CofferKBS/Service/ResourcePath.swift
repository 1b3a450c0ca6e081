/// `repository/type/tag`, each a non-empty segment of letters, digits, `-`, `_`, `.`
/// (not `.` or `..`), so a path can never climb out of its namespace.
public struct ResourcePath: Sendable, Equatable, CustomStringConvertible {
    public var repository: String
    public var type: String
    public var tag: String

    public init(_ repository: String, _ type: String, _ tag: String) throws(KBSFailure) {
        for segment in [repository, type, tag] {
            guard !segment.isEmpty, segment.utf8.count <= 128, segment != ".", segment != "..",
                  segment.utf8.allSatisfy({ c in
                      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
                  }) else {
                throw .badRequest("resource path segment \"\(segment.prefix(64))\" is invalid: use letters, digits, '-', '_' and '.'")
            }
        }
        self.repository = repository
        self.type = type
        self.tag = tag
    }

    public init(parsing path: String) throws(KBSFailure) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw .badRequest("resource \"\(path.prefix(64))\" must be repository/type/tag") }
        try self.init(parts[0], parts[1], parts[2])
    }

    public var description: String { "\(repository)/\(type)/\(tag)" }
}
