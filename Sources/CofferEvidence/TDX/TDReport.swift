/// The TD report body 1.0 (584 bytes), the body of a TDX v4 quote and of a v5 quote of body type 2.
///
/// Intel TDX DCAP Quoting Library API, A.3.2 "TD Quote Body" (`sgx_report2_body_t`).
public struct TDReport10: Sendable, Equatable {
    public static let size = 584

    public var teeTCBSVN: [UInt8]       // 16
    public var mrSeam: [UInt8]          // 48
    public var mrSignerSeam: [UInt8]    // 48
    public var seamAttributes: [UInt8]  // 8
    public var tdAttributes: [UInt8]    // 8
    public var xfam: [UInt8]            // 8
    public var mrTD: [UInt8]            // 48
    public var mrConfigID: [UInt8]      // 48
    public var mrOwner: [UInt8]         // 48
    public var mrOwnerConfig: [UInt8]   // 48
    public var rtmr: [[UInt8]]          // 4 × 48
    public var reportData: [UInt8]      // 64

    init(reader: inout QuoteReader) throws(IntelQuoteError) {
        teeTCBSVN = try reader.bytes(16, "td_report.tee_tcb_svn")
        mrSeam = try reader.bytes(48, "td_report.mr_seam")
        mrSignerSeam = try reader.bytes(48, "td_report.mr_signer_seam")
        seamAttributes = try reader.bytes(8, "td_report.seam_attributes")
        tdAttributes = try reader.bytes(8, "td_report.td_attributes")
        xfam = try reader.bytes(8, "td_report.xfam")
        mrTD = try reader.bytes(48, "td_report.mr_td")
        mrConfigID = try reader.bytes(48, "td_report.mr_config_id")
        mrOwner = try reader.bytes(48, "td_report.mr_owner")
        mrOwnerConfig = try reader.bytes(48, "td_report.mr_owner_config")
        var registers: [[UInt8]] = []
        for index in 0..<4 { registers.append(try reader.bytes(48, "td_report.rtmr\(index)")) }
        rtmr = registers
        reportData = try reader.bytes(64, "td_report.report_data")
    }
}

/// The TD report body 1.5 (648 bytes): 1.0 followed by TEE_TCB_SVN2 and MRSERVICETD.
///
/// Intel TDX DCAP Quoting Library API, A.4.2 "TD Quote Body Descriptor", body type 3.
public struct TDReport15: Sendable, Equatable {
    public static let size = 648

    public var base: TDReport10
    public var teeTCBSVN2: [UInt8]      // 16
    public var mrServiceTD: [UInt8]     // 48

    init(reader: inout QuoteReader) throws(IntelQuoteError) {
        base = try TDReport10(reader: &reader)
        teeTCBSVN2 = try reader.bytes(16, "td_report.tee_tcb_svn2")
        mrServiceTD = try reader.bytes(48, "td_report.mr_servicetd")
    }
}

/// The body of a TDX quote: a TD report 1.0 or 1.5.
public enum TDReportBody: Sendable, Equatable {
    case v10(TDReport10)
    case v15(TDReport15)

    /// The fields TD report 1.0 and 1.5 share.
    public var base: TDReport10 {
        switch self {
        case .v10(let report): report
        case .v15(let report): report.base
        }
    }
}
