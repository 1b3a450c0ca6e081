/// The 48-byte header every Intel DCAP quote starts with.
///
/// Intel SGX ECDSA Quote Library API, Appendix A, table "Quote Header"; Intel TDX DCAP Quoting
/// Library API, A.3.1 "Quote Header" (v4) and A.4 (v5, same layout).
///
/// ```
///  0       2          4        8       10       12                28            48
///  |version|att key ty|tee type|qe svn |pce svn |qe vendor id (16)|user data (20)|
/// ```
/// In v4/v5 the QE SVN and PCE SVN words are reserved.
public struct QuoteHeader: Sendable, Equatable {
    public static let size = 48
    /// `tee_type` for SGX enclaves.
    public static let teeSGX: UInt32 = 0x0000_0000
    /// `tee_type` for TDX trust domains.
    public static let teeTDX: UInt32 = 0x0000_0081
    /// `att_key_type` 2: ECDSA-256 with P-256, the only key type DCAP quotes use.
    public static let ecdsaP256: UInt16 = 2
    /// The Intel QE vendor id, 939A7233-F79C-4CA9-940A-0DB3957F0607.
    public static let intelQEVendorID: [UInt8] = [
        0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
    ]

    public var version: UInt16
    public var attestationKeyType: UInt16
    public var teeType: UInt32
    /// QE SVN (v3); reserved (v4, v5).
    public var qeSVN: UInt16
    /// PCE SVN (v3); reserved (v4, v5).
    public var pceSVN: UInt16
    public var qeVendorID: [UInt8]
    public var userData: [UInt8]

    public init(bytes: [UInt8]) throws(IntelQuoteError) {
        var reader = QuoteReader(bytes)
        try self.init(reader: &reader)
    }

    init(reader: inout QuoteReader) throws(IntelQuoteError) {
        version = try reader.u16("header.version")
        attestationKeyType = try reader.u16("header.att_key_type")
        teeType = try reader.u32("header.tee_type")
        qeSVN = try reader.u16("header.qe_svn")
        pceSVN = try reader.u16("header.pce_svn")
        qeVendorID = try reader.bytes(16, "header.qe_vendor_id")
        userData = try reader.bytes(20, "header.user_data")
        guard attestationKeyType == Self.ecdsaP256 else {
            throw .badValue(field: "header.att_key_type",
                            detail: "\(attestationKeyType) is not 2 (ECDSA-256 with P-256)")
        }
    }
}
