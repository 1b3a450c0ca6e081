import CofferJSON

/// TCB Info as JSON (Intel PCS API, TCB Info v2 and v3), before validation into `TCBInfo`.
struct TCBInfoJSON {
    /// `tcb`: v3 lists `sgxtcbcomponents`/`tdxtcbcomponents`; v2 has `sgxtcbcomp01svn`…`16svn`.
    struct TCB {
        var sgx: [UInt8]
        var tdx: [UInt8]
        var pceSVN: UInt16

        static let v2Keys = (1...16).map { $0 < 10 ? "sgxtcbcomp0\($0)svn" : "sgxtcbcomp\($0)svn" }

        init(_ json: CollateralObject) throws(VerificationFailure) {
            pceSVN = try json.integer("pcesvn", as: UInt16.self)
            if json.contains("sgxtcbcomponents") {
                sgx = try Self.components(json, "sgxtcbcomponents")
                tdx = json.contains("tdxtcbcomponents") ? try Self.components(json, "tdxtcbcomponents") : []
            } else {
                var sgx: [UInt8] = []
                for key in Self.v2Keys { sgx.append(try json.integer(key, as: UInt8.self)) }
                self.sgx = sgx
                tdx = []
            }
        }

        /// The `svn` of each `{ "svn": N, … }` element.
        static func components(_ json: CollateralObject, _ key: String) throws(VerificationFailure) -> [UInt8] {
            guard case .array(let elements)? = json.value(key) else {
                throw CollateralObject.wrongType("\(json.path).\(key)", "an array")
            }
            var svns: [UInt8] = []
            svns.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                guard case .object(let members) = element, let svn = members["svn"] else {
                    throw VerificationFailure(.malformedCollateral, "\(json.path).\(key)[\(index)].svn is missing")
                }
                svns.append(try CollateralObject.integer(svn, as: UInt8.self, path: "\(json.path).\(key)[\(index)].svn"))
            }
            return svns
        }
    }

    struct Level {
        var tcb: TCB
        var tcbStatus: String
        var advisoryIDs: [String]?

        init(_ json: CollateralObject) throws(VerificationFailure) {
            tcb = try TCB(try json.object("tcb"))
            tcbStatus = try json.string("tcbStatus")
            advisoryIDs = try json.optionalStrings("advisoryIDs")
        }
    }

    /// A TCB level of a TDX module or of the QE (`tcb.isvsvn`).
    struct ModuleLevel {
        var isvSVN: UInt16
        var tcbStatus: String
        var advisoryIDs: [String]?

        init(_ json: CollateralObject) throws(VerificationFailure) {
            isvSVN = try json.object("tcb").integer("isvsvn", as: UInt16.self)
            tcbStatus = try json.string("tcbStatus")
            advisoryIDs = try json.optionalStrings("advisoryIDs")
        }
    }

    struct Module {
        var id: String?
        var mrsigner: String
        var attributes: String
        var attributesMask: String
        var tcbLevels: [ModuleLevel]?

        init(_ json: CollateralObject) throws(VerificationFailure) {
            id = try json.optionalString("id")
            mrsigner = try json.string("mrsigner")
            attributes = try json.string("attributes")
            attributesMask = try json.string("attributesMask")
            var levels: [ModuleLevel]? = nil
            if let objects = try json.optionalObjects("tcbLevels") {
                var list: [ModuleLevel] = []
                for object in objects { list.append(try ModuleLevel(object)) }
                levels = list
            }
            tcbLevels = levels
        }
    }

    var id: String?
    var version: Int
    var issueDate: String
    var nextUpdate: String
    var fmspc: String
    var pceId: String
    var tcbLevels: [Level]
    var tdxModule: Module?
    var tdxModuleIdentities: [Module]?

    init(_ json: CollateralObject) throws(VerificationFailure) {
        id = try json.optionalString("id")
        version = try json.integer("version", as: Int.self)
        issueDate = try json.string("issueDate")
        nextUpdate = try json.string("nextUpdate")
        fmspc = try json.string("fmspc")
        pceId = try json.string("pceId")
        var levels: [Level] = []
        for object in try json.objects("tcbLevels") { levels.append(try Level(object)) }
        tcbLevels = levels
        tdxModule = try json.optionalObject("tdxModule").map { object throws(VerificationFailure) in try Module(object) }
        var identities: [Module]? = nil
        if let objects = try json.optionalObjects("tdxModuleIdentities") {
            var list: [Module] = []
            for object in objects { list.append(try Module(object)) }
            identities = list
        }
        tdxModuleIdentities = identities
    }
}
