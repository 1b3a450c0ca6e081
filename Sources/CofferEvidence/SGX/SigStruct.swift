import CofferCore

/// The enclave signature structure an enclave's signer produces and EINIT checks.
///
/// Intel SDM Vol. 3D, section 38.14 "Enclave Signature Structure (SIGSTRUCT)", table 38-19;
/// 1808 bytes, integers little-endian (the RSA values too). The SDK's `enclave_css_t` names the
/// KSS and CET fields of the later SDM revisions.
///
///        0  HEADER (12, fixed) | TYPE u32 (bit 31: debug signer)
///       16  VENDOR u32 (0 or 0x8086) | DATE u32 (BCD yyyymmdd)
///       24  HEADER2 (16, fixed) | SWDEFINED u32 | 84 reserved              } signed: 0..<128
///      128  MODULUS (384) | EXPONENT u32 (3) | SIGNATURE (384)
///      900  MISCSELECT u32 | MISCMASK u32 | CET_ATTRIBUTES u8 | CET_ATTRIBUTES_MASK u8 | 2 reserved
///      912  ISVFAMILYID (16) | ATTRIBUTES (16) | ATTRIBUTEMASK (16)
///      960  ENCLAVEHASH (32) | 16 reserved | ISVEXTPRODID (16)
///     1024  ISVPRODID u16 | ISVSVN u16                                       } signed: 900..<1028
///     1028  12 reserved | Q1 (384) | Q2 (384)
public struct SigStruct: Sendable, Equatable {
    public static let size = 1808
    /// HEADER's first 12 bytes and HEADER2, which the SDM fixes.
    public static let header = [0x06, 0, 0, 0, 0xE1, 0, 0, 0, 0, 0, 0x01, 0] as [UInt8]
    public static let header2 = [0x01, 0x01, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 0x01, 0, 0, 0] as [UInt8]
    /// The only public exponent EINIT accepts.
    public static let exponent: UInt32 = 3
    public static let modulusSize = 384

    public var type: UInt32 = 0
    public var vendor: UInt32 = 0
    /// BCD: 0x20161214 is 2016-12-14.
    public var date: UInt32 = 0
    public var swDefined: UInt32 = 0
    /// The signer's RSA-3072 modulus, little-endian.
    public var modulus: [UInt8] = .init(repeating: 0, count: 384)
    /// The RSA signature over `signedBytes`, little-endian.
    public var signature: [UInt8] = .init(repeating: 0, count: 384)
    public var miscSelect: UInt32 = 0
    public var miscMask: UInt32 = 0
    public var cetAttributes: UInt8 = 0
    public var cetAttributesMask: UInt8 = 0
    public var isvFamilyID: [UInt8] = .init(repeating: 0, count: 16)
    /// SECS.ATTRIBUTES the enclave must have (FLAGS u64, XFRM u64), under `attributeMask`.
    public var attributes: [UInt8] = .init(repeating: 0, count: 16)
    public var attributeMask: [UInt8] = .init(repeating: 0, count: 16)
    /// The MRENCLAVE this signature is for.
    public var enclaveHash: [UInt8] = .init(repeating: 0, count: 32)
    public var isvExtProdID: [UInt8] = .init(repeating: 0, count: 16)
    public var isvProdID: UInt16 = 0
    public var isvSVN: UInt16 = 0
    /// floor(signature² / modulus) and floor((signature³ − Q1·signature·modulus) / modulus), little-endian.
    public var q1: [UInt8] = .init(repeating: 0, count: 384)
    public var q2: [UInt8] = .init(repeating: 0, count: 384)

    public init() {}

    /// Parses exactly 1808 bytes. Fixed headers, the exponent and reserved fields are checked:
    /// EINIT refuses a SIGSTRUCT that breaks them, so Coffer does not report one as usable.
    public init(bytes: [UInt8]) throws(SGXEnclaveError) {
        var reader = SigStructReader(bytes)
        let header = try reader.bytes(12, "header")
        guard header == Self.header else { throw .badValue(what: "SIGSTRUCT", field: "header", detail: "\(Hex.encode(header)), expected \(Hex.encode(Self.header))") }
        type = try reader.u32("type")
        guard type & 0x7FFF_FFFF == 0 else { throw .badValue(what: "SIGSTRUCT", field: "type", detail: "0x\(String(type, radix: 16)): only bit 31 may be set") }
        vendor = try reader.u32("vendor")
        guard vendor == 0 || vendor == 0x8086 else { throw .badValue(what: "SIGSTRUCT", field: "vendor", detail: "0x\(String(vendor, radix: 16)), expected 0 or 0x8086") }
        date = try reader.u32("date")
        let header2 = try reader.bytes(16, "header2")
        guard header2 == Self.header2 else { throw .badValue(what: "SIGSTRUCT", field: "header2", detail: "\(Hex.encode(header2)), expected \(Hex.encode(Self.header2))") }
        swDefined = try reader.u32("swdefined")
        try reader.zeros(84, "reserved1")
        modulus = try reader.bytes(384, "modulus")
        let exponent = try reader.u32("exponent")
        guard exponent == Self.exponent else { throw .badValue(what: "SIGSTRUCT", field: "exponent", detail: "\(exponent), SGX requires 3") }
        signature = try reader.bytes(384, "signature")
        miscSelect = try reader.u32("miscselect")
        miscMask = try reader.u32("miscmask")
        cetAttributes = try reader.u8("cet_attributes")
        cetAttributesMask = try reader.u8("cet_attributes_mask")
        try reader.zeros(2, "reserved2")
        isvFamilyID = try reader.bytes(16, "isvfamilyid")
        attributes = try reader.bytes(16, "attributes")
        attributeMask = try reader.bytes(16, "attributemask")
        enclaveHash = try reader.bytes(32, "enclavehash")
        try reader.zeros(16, "reserved3")
        isvExtProdID = try reader.bytes(16, "isvextprodid")
        isvProdID = try reader.u16("isvprodid")
        isvSVN = try reader.u16("isvsvn")
        try reader.zeros(12, "reserved4")
        q1 = try reader.bytes(384, "q1")
        q2 = try reader.bytes(384, "q2")
        guard reader.remaining == 0 else {
            throw .badValue(what: "SIGSTRUCT", field: "length", detail: "\(bytes.count) bytes, a SIGSTRUCT is \(Self.size)")
        }
    }

    /// The 1808 bytes, fields in table order.
    public var encoded: [UInt8] {
        var out = ByteWriter(capacity: Self.size)
        out.write(Self.header); out.writeUInt32LE(type); out.writeUInt32LE(vendor); out.writeUInt32LE(date)
        out.write(Self.header2); out.writeUInt32LE(swDefined); out.writeZeros(84)
        out.writeFixed(modulus, width: 384); out.writeUInt32LE(Self.exponent); out.writeFixed(signature, width: 384)
        out.writeUInt32LE(miscSelect); out.writeUInt32LE(miscMask); out.writeUInt8(cetAttributes); out.writeUInt8(cetAttributesMask); out.writeZeros(2)
        out.writeFixed(isvFamilyID, width: 16); out.writeFixed(attributes, width: 16); out.writeFixed(attributeMask, width: 16)
        out.writeFixed(enclaveHash, width: 32); out.writeZeros(16); out.writeFixed(isvExtProdID, width: 16)
        out.writeUInt16LE(isvProdID); out.writeUInt16LE(isvSVN); out.writeZeros(12)
        out.writeFixed(q1, width: 384); out.writeFixed(q2, width: 384)
        return out.bytes
    }

    /// What the signature covers: bytes 0..<128 (header) and 900..<1028 (body), concatenated.
    public var signedBytes: [UInt8] {
        let all = encoded
        return Array(all[0..<128] + all[900..<1028])
    }

    /// MRSIGNER: SHA-256 of the 384-byte little-endian modulus (what EINIT records in SECS).
    public var mrSigner: [UInt8] { SHA256Digest.hash(modulus) }

    /// `date` as yyyy-mm-dd, or nil when it is not BCD.
    public var dateText: String? {
        let digits = (0..<8).reversed().map { Int((date >> UInt32(4 * $0)) & 0xF) }
        guard digits.allSatisfy({ $0 <= 9 }) else { return nil }
        let text = digits.map(String.init).joined()
        return "\(text.prefix(4))-\(text.dropFirst(4).prefix(2))-\(text.suffix(2))"
    }

    /// yyyymmdd (digits) as BCD, or nil when it is not a calendar date of that form.
    public static func bcdDate(_ text: String) -> UInt32? {
        guard text.count == 8, let value = UInt32(text, radix: 16), text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
              let month = Int(text.dropFirst(4).prefix(2)), let day = Int(text.suffix(2)), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        return value
    }
}

/// A `ByteReader` whose reads throw `SGXEnclaveError` naming the SIGSTRUCT field.
struct SigStructReader {
    var inner: ByteReader
    init(_ bytes: [UInt8]) { inner = ByteReader(bytes) }
    var remaining: Int { inner.remaining }

    mutating func bytes(_ count: Int, _ field: String) throws(SGXEnclaveError) -> [UInt8] {
        do { return try inner.read(count, field) } catch { throw .truncated(what: "SIGSTRUCT (1808 bytes)", error) }
    }
    mutating func u8(_ field: String) throws(SGXEnclaveError) -> UInt8 {
        do { return try inner.readUInt8(field) } catch { throw .truncated(what: "SIGSTRUCT (1808 bytes)", error) }
    }
    mutating func u16(_ field: String) throws(SGXEnclaveError) -> UInt16 {
        do { return try inner.readUInt16LE(field) } catch { throw .truncated(what: "SIGSTRUCT (1808 bytes)", error) }
    }
    mutating func u32(_ field: String) throws(SGXEnclaveError) -> UInt32 {
        do { return try inner.readUInt32LE(field) } catch { throw .truncated(what: "SIGSTRUCT (1808 bytes)", error) }
    }
    /// Reserved fields are zero: EINIT refuses a SIGSTRUCT otherwise.
    mutating func zeros(_ count: Int, _ field: String) throws(SGXEnclaveError) {
        let at = inner.offset
        let value = try bytes(count, field)
        if let bad = value.firstIndex(where: { $0 != 0 }) {
            throw .badValue(what: "SIGSTRUCT", field: field, detail: "byte \(at + bad) is 0x\(String(value[bad], radix: 16)), reserved bytes must be zero")
        }
    }
}
