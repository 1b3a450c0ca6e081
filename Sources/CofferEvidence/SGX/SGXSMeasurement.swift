import CofferCore

/// MRENCLAVE computed from an enclave's SGXS measurement stream, as the CPU computes it while the
/// enclave is built.
///
/// SGXS (fortanix/rust-sgx doc/SGXS.md) is the enclave's measurement log: 64-byte records, each an
/// 8-byte tag and 56 bytes of header data, laid out as the Intel SDM Vol. 3D, section 38.7 "Enclave
/// Measurement" (ECREATE, EADD and EEXTEND) lays out the blocks it feeds SHA-256:
///
///     ECREATE   "ECREATE\0" | SSAFRAMESIZE u32 | SIZE u64 | 44 zero bytes
///     EADD      "EADD\0\0\0\0" | page OFFSET u64 | SECINFO[0..<48] (FLAGS u64, 40 zero bytes)
///     EEXTEND   "EEXTEND\0" | chunk OFFSET u64 | 48 zero bytes, then the chunk's 256 data bytes
///     UNMEASRD  "UNMEASRD" | chunk OFFSET u64 | 48 zero bytes, then 256 data bytes (ESGXS: loaded, not measured)
///
/// MRENCLAVE is SHA-256 over the ECREATE, EADD and EEXTEND blocks (EEXTEND with its data) in order.
/// The stream is checked to be canonical (one ECREATE first, page-aligned increasing EADDs,
/// 256-aligned chunks inside the page last added), so the value printed is one a CPU can produce.
public struct SGXSMeasurement: Sendable, Equatable {
    public var mrEnclave: [UInt8]
    /// SECS.SIZE: the enclave's address-space size in bytes.
    public var enclaveSize: UInt64
    /// SECS.SSAFRAMESIZE, in pages.
    public var ssaFrameSize: UInt32
    /// EADD records (pages added).
    public var pages: Int
    /// EEXTEND records (256-byte chunks measured).
    public var measuredChunks: Int
    /// UNMEASRD records (chunks loaded but not measured).
    public var unmeasuredChunks: Int

    static let recordSize = 64
    static let chunkSize = 256
    static let pageSize: UInt64 = 4096

    enum Tag: UInt64 {
        case ecreate = 0x0045_5441_4552_4345   // "ECREATE\0" little-endian
        case eadd = 0x0000_0000_4444_4145      // "EADD\0\0\0\0"
        case eextend = 0x0044_4E45_5458_4545   // "EEXTEND\0"
        case unmeasured = 0x4452_5341_454D_4E55 // "UNMEASRD"
        case unsized = 0x0044_455A_4953_4E55   // "UNSIZED\0"
    }

    public init(stream: [UInt8]) throws(SGXEnclaveError) {
        var reader = ByteReader(stream)
        var hasher = SHA256Digest()
        var size: UInt64 = 0
        var ssaFrameSize: UInt32 = 0
        var page: UInt64? = nil
        var (pages, measured, unmeasured, index) = (0, 0, 0, 0)

        /// Security: only a canonical stream is measured; a second ECREATE, a page added twice or a
        /// chunk outside its page would make the value printed one no CPU reports for any enclave.
        while !reader.isAtEnd {
            let at = reader.offset
            let name = "record[\(index)]"
            let record = try Self.read(&reader, Self.recordSize, name)
            var fields = ByteReader(record)
            let rawTag = try Self.u64(&fields, "\(name).tag")
            guard let tag = Tag(rawValue: rawTag) else {
                throw .badValue(what: "SGXS stream", field: "\(name).tag", detail: "unknown tag \(Self.printable(record[0..<8])) at offset \(at)")
            }
            if index == 0, tag != .ecreate {
                throw .badValue(what: "SGXS stream", field: "\(name).tag", detail: tag == .unsized
                    ? "UNSIZED: the enclave's size is not fixed yet, so it cannot be measured"
                    : "the stream must begin with ECREATE, found \(Self.printable(record[0..<8]))")
            }
            switch tag {
            case .ecreate:
                guard index == 0 else { throw .badValue(what: "SGXS stream", field: "\(name).tag", detail: "a second ECREATE at offset \(at)") }
                ssaFrameSize = try Self.u32(&fields, "\(name).ssaframesize")
                size = try Self.u64(&fields, "\(name).size")
                try Self.zeros(record, from: 20, "\(name).reserved")
                guard size >= 2 * Self.pageSize, size & (size - 1) == 0 else {
                    throw .badValue(what: "SGXS stream", field: "\(name).size", detail: "\(size): SECS.SIZE must be a power of two of at least 8192")
                }
                hasher.update(record)
            case .eadd:
                let offset = try Self.u64(&fields, "\(name).offset")
                guard offset % Self.pageSize == 0, offset < size else {
                    throw .badValue(what: "SGXS stream", field: "\(name).offset", detail: "0x\(String(offset, radix: 16)) is not a page offset inside the enclave's 0x\(String(size, radix: 16)) bytes")
                }
                if let page, offset <= page {
                    throw .badValue(what: "SGXS stream", field: "\(name).offset", detail: "page 0x\(String(offset, radix: 16)) is not after the previous page 0x\(String(page, radix: 16))")
                }
                try Self.zeros(record, from: 24, "\(name).secinfo.reserved")
                page = offset
                pages += 1
                hasher.update(record)
            case .eextend, .unmeasured:
                let offset = try Self.u64(&fields, "\(name).offset")
                try Self.zeros(record, from: 16, "\(name).reserved")
                guard let page, offset % UInt64(Self.chunkSize) == 0, offset >= page, offset - page < Self.pageSize else {
                    throw .badValue(what: "SGXS stream", field: "\(name).offset", detail: "chunk 0x\(String(offset, radix: 16)) is not a 256-byte chunk of the page last added")
                }
                let data = try Self.read(&reader, Self.chunkSize, "\(name).data")
                if tag == .eextend {
                    hasher.update(record)
                    hasher.update(data)
                    measured += 1
                } else {
                    unmeasured += 1
                }
            case .unsized:
                throw .badValue(what: "SGXS stream", field: "\(name).tag", detail: "UNSIZED after the first record")
            }
            index += 1
        }
        guard index > 0 else { throw .badValue(what: "SGXS stream", field: "record[0]", detail: "the stream is empty, it must begin with ECREATE") }
        mrEnclave = hasher.finalize()
        enclaveSize = size
        self.ssaFrameSize = ssaFrameSize
        self.pages = pages
        measuredChunks = measured
        unmeasuredChunks = unmeasured
    }

    private static func read(_ reader: inout ByteReader, _ count: Int, _ field: String) throws(SGXEnclaveError) -> [UInt8] {
        do { return try reader.read(count, field) } catch { throw .truncated(what: "SGXS stream", error) }
    }

    private static func u64(_ reader: inout ByteReader, _ field: String) throws(SGXEnclaveError) -> UInt64 {
        do { return try reader.readUInt64LE(field) } catch { throw .truncated(what: "SGXS stream", error) }
    }

    private static func u32(_ reader: inout ByteReader, _ field: String) throws(SGXEnclaveError) -> UInt32 {
        do { return try reader.readUInt32LE(field) } catch { throw .truncated(what: "SGXS stream", error) }
    }

    /// The CPU measures zeros there (and faults on a non-zero SECINFO reserved field), so a stream
    /// with anything else describes no enclave a CPU builds.
    private static func zeros(_ record: [UInt8], from start: Int, _ field: String) throws(SGXEnclaveError) {
        if let bad = record[start...].firstIndex(where: { $0 != 0 }) {
            throw .badValue(what: "SGXS stream", field: field, detail: "byte \(bad) of the record is 0x\(String(record[bad], radix: 16)), the CPU measures zero there")
        }
    }

    private static func printable(_ tag: ArraySlice<UInt8>) -> String {
        tag.allSatisfy({ $0 == 0 || (0x20..<0x7f).contains($0) })
            ? "\"\(String(decoding: tag.filter { $0 != 0 }, as: UTF8.self))\"" : "0x\(Hex.encode(Array(tag)))"
    }
}
