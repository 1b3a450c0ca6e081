/// Intel's TCB Info for one FMSPC: the TCB levels a platform's SVNs are matched against.
///
/// Intel PCS API, "TCB Info" v2 (SGX: `sgxtcbcomp01svn`…`sgxtcbcomp16svn`, `pcesvn`) and v3 (`id`
/// SGX or TDX; `sgxtcbcomponents`, `tdxtcbcomponents` arrays; `tdxModule`,
/// `tdxModuleIdentities`). Only the fields verification uses are kept.
struct TCBInfo: Sendable {
    struct Level: Sendable {
        var sgxComponents: [UInt8]      // 16
        var pceSVN: UInt16
        var tdxComponents: [UInt8]      // 16 for TDX, empty for SGX
        var status: TCBStatus
        var advisoryIDs: [String]
    }

    /// TDX module signer and attributes (`tdxModule`, and each `tdxModuleIdentities` entry).
    struct ModuleIdentity: Sendable {
        var id: String
        var mrSigner: [UInt8]           // 48
        var attributes: [UInt8]         // 8
        var attributesMask: [UInt8]     // 8
        /// (isvsvn, status, advisories), as listed.
        var levels: [(isvSVN: UInt8, status: TCBStatus, advisoryIDs: [String])]
    }

    var id: String
    var version: Int
    var issueDate: Int64
    var nextUpdate: Int64
    var fmspc: [UInt8]
    var pceID: [UInt8]
    /// Levels ordered highest first, as QVL orders them before matching.
    var levels: [Level]
    var tdxModule: ModuleIdentity?
    var tdxModuleIdentities: [ModuleIdentity]

    var isTDX: Bool { id == "TDX" }

    init(body: [UInt8]) throws(VerificationFailure) {
        let json = try TCBInfoJSON(try CollateralObject(parsing: body, path: "tcb_info"))
        version = json.version
        guard version == 2 || version == 3 else {
            throw VerificationFailure(.malformedCollateral, "tcb_info.version = \(version); Coffer reads TCB Info versions 2 and 3")
        }
        guard let id = version == 2 ? "SGX" : json.id else {
            throw VerificationFailure(.malformedCollateral, "tcb_info.id is missing")
        }
        self.id = id
        issueDate = try CollateralDecoding.timestamp(json.issueDate, field: "tcb_info.issueDate")
        nextUpdate = try CollateralDecoding.timestamp(json.nextUpdate, field: "tcb_info.nextUpdate")
        fmspc = try CollateralDecoding.hex(json.fmspc, count: 6, field: "tcb_info.fmspc")
        pceID = try CollateralDecoding.hex(json.pceId, count: 2, field: "tcb_info.pceId")
        var levels: [Level] = []
        for (index, level) in json.tcbLevels.enumerated() {
            let field = "tcb_info.tcbLevels[\(index)]"
            guard level.tcb.sgx.count == 16 else {
                throw VerificationFailure(.malformedCollateral, "\(field).tcb has \(level.tcb.sgx.count) SGX components, expected 16")
            }
            guard id != "TDX" || level.tcb.tdx.count == 16 else {
                throw VerificationFailure(.malformedCollateral, "\(field).tcb has \(level.tcb.tdx.count) TDX components, expected 16")
            }
            levels.append(Level(
                sgxComponents: level.tcb.sgx, pceSVN: level.tcb.pceSVN, tdxComponents: level.tcb.tdx,
                status: try CollateralDecoding.status(level.tcbStatus, field: "\(field).tcbStatus"),
                advisoryIDs: level.advisoryIDs ?? []))
        }
        let tdx = id == "TDX"
        self.levels = levels.sorted { a, b in
            if a.sgxComponents != b.sgxComponents { return b.sgxComponents.lexicographicallyPrecedes(a.sgxComponents) }
            if a.pceSVN != b.pceSVN { return a.pceSVN > b.pceSVN }
            return tdx && b.tdxComponents.lexicographicallyPrecedes(a.tdxComponents)
        }
        tdxModule = try json.tdxModule.map { module throws(VerificationFailure) in
            try Self.module(module, id: "tdxModule", field: "tcb_info.tdxModule")
        }
        var identities: [ModuleIdentity] = []
        for (index, module) in (json.tdxModuleIdentities ?? []).enumerated() {
            let field = "tcb_info.tdxModuleIdentities[\(index)]"
            guard let id = module.id else { throw VerificationFailure(.malformedCollateral, "\(field).id is missing") }
            identities.append(try Self.module(module, id: id, field: field))
        }
        tdxModuleIdentities = identities
    }

    private static func module(_ json: TCBInfoJSON.Module, id: String, field: String) throws(VerificationFailure) -> ModuleIdentity {
        var levels: [(isvSVN: UInt8, status: TCBStatus, advisoryIDs: [String])] = []
        for (index, level) in (json.tcbLevels ?? []).enumerated() {
            guard let isvSVN = UInt8(exactly: level.isvSVN) else {
                throw VerificationFailure(.malformedCollateral, "\(field).tcbLevels[\(index)].tcb.isvsvn is above 255")
            }
            levels.append((isvSVN, try CollateralDecoding.status(level.tcbStatus, field: "\(field).tcbLevels[\(index)].tcbStatus"),
                           level.advisoryIDs ?? []))
        }
        return ModuleIdentity(
            id: id, mrSigner: try CollateralDecoding.hex(json.mrsigner, count: 48, field: "\(field).mrsigner"),
            attributes: try CollateralDecoding.hex(json.attributes, count: 8, field: "\(field).attributes"),
            attributesMask: try CollateralDecoding.hex(json.attributesMask, count: 8, field: "\(field).attributesMask"),
            levels: levels)
    }
}
