import CofferCore

/// Why bytes are not a well-formed Intel DCAP quote (SGX v3, TDX v4/v5).
///
/// Every case names the field so an operator can tell a truncated upload from a quote of a
/// version Coffer does not support.
public enum IntelQuoteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The quote ended inside `field`.
    case truncated(ByteReader.Truncated)
    /// `field` holds a value this parser does not accept (`detail` says which and why).
    case badValue(field: String, detail: String)

    public var description: String {
        switch self {
        case .truncated(let t): "quote \(t)"
        case .badValue(let field, let detail): "quote field \(field): \(detail)"
        }
    }
}

/// A `ByteReader` whose reads throw `IntelQuoteError`, so quote parsers have one typed error.
struct QuoteReader {
    var inner: ByteReader

    init(_ bytes: [UInt8], offset: Int = 0) { inner = ByteReader(bytes, offset: offset) }

    var offset: Int { inner.offset }
    var remaining: Int { inner.remaining }

    mutating func bytes(_ count: Int, _ field: String) throws(IntelQuoteError) -> [UInt8] {
        do { return try inner.read(count, field) } catch { throw .truncated(error) }
    }

    mutating func u16(_ field: String) throws(IntelQuoteError) -> UInt16 {
        do { return try inner.readUInt16LE(field) } catch { throw .truncated(error) }
    }

    mutating func u32(_ field: String) throws(IntelQuoteError) -> UInt32 {
        do { return try inner.readUInt32LE(field) } catch { throw .truncated(error) }
    }

    mutating func u64(_ field: String) throws(IntelQuoteError) -> UInt64 {
        do { return try inner.readUInt64LE(field) } catch { throw .truncated(error) }
    }

    mutating func skip(_ count: Int, _ field: String) throws(IntelQuoteError) {
        do { try inner.skip(count, field) } catch { throw .truncated(error) }
    }
}
