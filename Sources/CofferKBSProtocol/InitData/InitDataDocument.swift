/// Confidential Containers' init-data (trustee kbs/docs/initdata.md): a TOML document with
/// `version = "0.1.0"`, `algorithm = "sha256" | "sha384" | "sha512"` and a `[data]` table of
/// string → string. Its digest, by its own algorithm over its exact bytes, is set as the TEE's
/// launch-time field (TDX MRCONFIGID, SEV-SNP HOST_DATA, SGX CONFIGID, Coffer's kernel argument
/// `coffer.initdata=` and sample host data); the guest refuses to start when the bytes the host
/// hands it do not hash to the measured digest, and the broker checks the same digest against the
/// evidence before it trusts anything the document says.
///
/// ```
/// version = "0.1.0"
/// algorithm = "sha384"
///
/// [data]
/// "coffer.json" = '''
/// {"kbs":{...},"secrets":[...]}'''
/// ```
public struct InitDataDocument: Sendable, Equatable {
    public static let version = "0.1.0"
    /// Init-data travels in one host-guest frame and one attest request; Kata's own limit is of
    /// this order. A bigger document is refused before it is parsed.
    public static let maxSize = 64 * 1024

    public let algorithm: BindingHash
    /// The `[data]` entries in document order.
    public let data: [(key: String, value: String)]
    /// The document's exact bytes: what the digest covers and what is sent as `init-data`.
    public let bytes: [UInt8]

    /// Reads a document someone else wrote (the host, a Confidential Containers tool), exactly:
    /// unknown top-level keys or tables are refused, not ignored, since whatever they meant to
    /// their writer would not be honoured here.
    public init(parsing bytes: [UInt8]) throws(InitDataError) {
        guard bytes.count <= Self.maxSize else { throw .tooLarge(bytes.count) }
        let document: TOMLDocument
        do { document = try TOMLDocument(parsing: bytes) } catch { throw .notTOML(error) }
        for pair in document.root.pairs where pair.key != "version" && pair.key != "algorithm" {
            throw .unknownKey(pair.key)
        }
        for table in document.tables where table.name != "data" { throw .unknownTable(table.name) }
        guard let version = document.root["version"] else { throw .missing("version") }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        guard let name = document.root["algorithm"] else { throw .missing("algorithm") }
        guard let algorithm = BindingHash(rawValue: name) else { throw .unsupportedAlgorithm(name) }
        self.algorithm = algorithm
        data = document.table("data")?.pairs ?? []
        self.bytes = bytes
    }

    /// Writes a document in Coffer's fixed layout: the same entries give the same bytes, so the
    /// same launch gives the same digest (golden-tested).
    public init(algorithm: BindingHash = .sha384, data: [(key: String, value: String)]) throws(InitDataError) {
        var text = "version = \"\(Self.version)\"\nalgorithm = \"\(algorithm.rawValue)\"\n"
        if !data.isEmpty { text += "\n[data]\n" }
        var seen = Set<String>()
        for (key, value) in data {
            guard seen.insert(key).inserted else { throw .duplicateKey(key) }
            text += "\(Self.basic(key)) = \(Self.value(value))\n"
        }
        try self.init(parsing: Array(text.utf8))
    }

    public subscript(key: String) -> String? { data.first { $0.key == key }?.value }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The digest by the document's own algorithm over its exact bytes.
    public var digest: [UInt8] { algorithm.digest(bytes) }

    /// The digest fitted to a TEE's field of `length` bytes: truncated, or zero-padded (Trustee's
    /// `regularize_data`), e.g. 48 for MRCONFIGID, 32 for HOST_DATA.
    public func field(length: Int) -> [UInt8] {
        let digest = self.digest
        if digest.count >= length { return Array(digest.prefix(length)) }
        return digest + [UInt8](repeating: 0, count: length - digest.count)
    }

    public static func == (a: Self, b: Self) -> Bool { a.bytes == b.bytes }

    // MARK: Writing TOML strings

    /// A `'''` block when the text allows one (readable, no escapes), else a basic string.
    private static func value(_ text: String) -> String {
        let literalSafe = !text.contains("'''") && !text.hasSuffix("'")
            && !text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t" && $0 != "\n") || $0.value == 0x7F }
        return literalSafe ? "'''\n\(text)'''" : basic(text)
    }

    /// A TOML basic string: `"` and `\` escaped, control characters as \uXXXX.
    private static func basic(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Why an init-data document was refused.
public enum InitDataError: Error, Sendable, Equatable, CustomStringConvertible {
    case tooLarge(Int)
    case notTOML(TOMLError)
    case unknownKey(String)
    case unknownTable(String)
    case missing(String)
    case unsupportedVersion(String)
    case unsupportedAlgorithm(String)
    case duplicateKey(String)

    public var description: String {
        switch self {
        case .tooLarge(let size): "init-data is \(size) bytes; at most \(InitDataDocument.maxSize) are accepted"
        case .notTOML(let error): "init-data is not TOML Coffer reads: \(error)"
        case .unknownKey(let key): "init-data has an unknown top-level key \(key.prefix(64)); only version, algorithm and [data] are defined"
        case .unknownTable(let name): "init-data has an unknown table [\(name.prefix(64))]; only [data] is defined"
        case .missing(let key): "init-data has no \(key)"
        case .unsupportedVersion(let version): "init-data version \(version.prefix(32)) is not supported; use \(InitDataDocument.version)"
        case .unsupportedAlgorithm(let name): "init-data algorithm \(name.prefix(32)) is not supported; use sha256, sha384 or sha512"
        case .duplicateKey(let key): "init-data names the data key \(key.prefix(64)) twice"
        }
    }
}
