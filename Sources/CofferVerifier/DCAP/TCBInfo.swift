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
        let json = try CollateralJSON(bytes: body, path: "tcb_info")
        version = try json.int("version")
        guard version == 2 || version == 3 else {
            throw json.fail("version", "= \(version); Coffer reads TCB Info versions 2 and 3")
        }
        id = version == 2 ? "SGX" : try json.string("id")
        issueDate = try json.timestamp("issueDate")
        nextUpdate = try json.timestamp("nextUpdate")
        fmspc = try json.hex("fmspc", count: 6)
        pceID = try json.hex("pceId", count: 2)
        var levels: [Level] = []
        for level in try json.children("tcbLevels") {
            let tcb = try level.child("tcb")
            var sgx: [UInt8] = [], tdx: [UInt8] = []
            if version == 2 {
                for index in 1...16 {
                    let key = index < 10 ? "sgxtcbcomp0\(index)svn" : "sgxtcbcomp\(index)svn"
                    sgx.append(try tcb.svn(key, as: UInt8.self))
                }
            } else {
                for component in try tcb.children("sgxtcbcomponents") { sgx.append(try component.svn("svn", as: UInt8.self)) }
                if id == "TDX" {
                    for component in try tcb.children("tdxtcbcomponents") { tdx.append(try component.svn("svn", as: UInt8.self)) }
                    guard tdx.count == 16 else { throw tcb.fail("tdxtcbcomponents", "has \(tdx.count) entries, expected 16") }
                }
            }
            guard sgx.count == 16 else { throw tcb.fail("sgxtcbcomponents", "has \(sgx.count) entries, expected 16") }
            levels.append(Level(
                sgxComponents: sgx, pceSVN: try tcb.svn("pcesvn", as: UInt16.self), tdxComponents: tdx,
                status: try level.status("tcbStatus"), advisoryIDs: try level.strings("advisoryIDs")))
        }
        let tdx = id == "TDX"
        self.levels = levels.sorted { a, b in
            if a.sgxComponents != b.sgxComponents { return a.sgxComponents.lexicographicallyPrecedes(b.sgxComponents) == false }
            if a.pceSVN != b.pceSVN { return a.pceSVN > b.pceSVN }
            return tdx && b.tdxComponents.lexicographicallyPrecedes(a.tdxComponents)
        }
        tdxModule = json.has("tdxModule") ? try Self.module(try json.child("tdxModule"), id: "tdxModule") : nil
        var identities: [ModuleIdentity] = []
        if json.has("tdxModuleIdentities") {
            for entry in try json.children("tdxModuleIdentities") {
                identities.append(try Self.module(entry, id: try entry.string("id")))
            }
        }
        tdxModuleIdentities = identities
    }

    private static func module(_ json: CollateralJSON, id: String) throws(VerificationFailure) -> ModuleIdentity {
        var levels: [(isvSVN: UInt8, status: TCBStatus, advisoryIDs: [String])] = []
        if json.has("tcbLevels") {
            for level in try json.children("tcbLevels") {
                levels.append((try level.child("tcb").svn("isvsvn", as: UInt8.self),
                               try level.status("tcbStatus"), try level.strings("advisoryIDs")))
            }
        }
        return ModuleIdentity(
            id: id, mrSigner: try json.hex("mrsigner", count: 48), attributes: try json.hex("attributes", count: 8),
            attributesMask: try json.hex("attributesMask", count: 8), levels: levels)
    }
}
