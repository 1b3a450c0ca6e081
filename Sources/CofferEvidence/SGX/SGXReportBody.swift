/// The 384-byte SGX enclave report body: the ISV enclave's body in an SGX quote, and the QE report
/// in every DCAP quote's signature data.
///
/// Intel SGX ECDSA Quote Library API, Appendix A, table "Enclave Report Body" (`sgx_report_body_t`).
public struct SGXReportBody: Sendable, Equatable {
    public static let size = 384

    public var cpuSVN: [UInt8]          // 16
    public var miscSelect: UInt32       // 4, then 12 reserved
    public var isvExtProdID: [UInt8]    // 16
    public var attributes: [UInt8]      // 16
    public var mrEnclave: [UInt8]       // 32, then 32 reserved
    public var mrSigner: [UInt8]        // 32, then 32 reserved
    public var configID: [UInt8]        // 64
    public var isvProdID: UInt16
    public var isvSVN: UInt16
    public var configSVN: UInt16        // then 42 reserved
    public var isvFamilyID: [UInt8]     // 16
    public var reportData: [UInt8]      // 64

    public init(bytes: [UInt8]) throws(IntelQuoteError) {
        var reader = QuoteReader(bytes)
        try self.init(reader: &reader, name: "report_body")
    }

    init(reader: inout QuoteReader, name: String) throws(IntelQuoteError) {
        cpuSVN = try reader.bytes(16, "\(name).cpu_svn")
        miscSelect = try reader.u32("\(name).misc_select")
        try reader.skip(12, "\(name).reserved1")
        isvExtProdID = try reader.bytes(16, "\(name).isv_ext_prod_id")
        attributes = try reader.bytes(16, "\(name).attributes")
        mrEnclave = try reader.bytes(32, "\(name).mr_enclave")
        try reader.skip(32, "\(name).reserved2")
        mrSigner = try reader.bytes(32, "\(name).mr_signer")
        try reader.skip(32, "\(name).reserved3")
        configID = try reader.bytes(64, "\(name).config_id")
        isvProdID = try reader.u16("\(name).isv_prod_id")
        isvSVN = try reader.u16("\(name).isv_svn")
        configSVN = try reader.u16("\(name).config_svn")
        try reader.skip(42, "\(name).reserved4")
        isvFamilyID = try reader.bytes(16, "\(name).isv_family_id")
        reportData = try reader.bytes(64, "\(name).report_data")
    }
}
