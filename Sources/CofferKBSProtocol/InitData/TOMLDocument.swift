/// The part of TOML 1.0 (https://toml.io/en/v1.0.0) that init-data documents use: key/value pairs
/// whose values are strings (basic, literal, and both multi-line forms), plain `[table]` headers,
/// comments and blank lines. Everything else in TOML (numbers, booleans, dates, arrays, inline
/// tables, dotted keys, arrays of tables) is refused by name, never skipped.
///
/// Security: the guest reads its launch configuration from the init-data the host hands it, and
/// the broker reads the same bytes. Both parse them here, and a document that this subset cannot
/// read exactly, or that names a key or a table twice, is refused: two readers must never see two
/// meanings in one measured document.
public struct TOMLDocument: Sendable, Equatable {
    /// A table: its pairs in document order.
    public struct Table: Sendable, Equatable {
        public var name: String
        public var pairs: [(key: String, value: String)]

        public init(name: String, pairs: [(key: String, value: String)] = []) {
            self.name = name
            self.pairs = pairs
        }

        public subscript(key: String) -> String? { pairs.first { $0.key == key }?.value }

        public static func == (a: Table, b: Table) -> Bool {
            a.name == b.name && a.pairs.elementsEqual(b.pairs) { $0.key == $1.key && $0.value == $1.value }
        }
    }

    /// The pairs before the first table header (its name is "").
    public var root: Table
    /// The tables in document order.
    public var tables: [Table]

    public init(root: Table = Table(name: ""), tables: [Table] = []) {
        self.root = root
        self.tables = tables
    }

    public func table(_ name: String) -> Table? { tables.first { $0.name == name } }

    /// Parses `bytes` (UTF-8) or says where and why it cannot.
    public init(parsing bytes: [UInt8]) throws(TOMLError) {
        var parser = TOMLParser(bytes)
        self = try parser.document()
    }
}

/// Why a TOML document was refused: what, on which line.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "TOML line \(line): \(reason)" }
}
