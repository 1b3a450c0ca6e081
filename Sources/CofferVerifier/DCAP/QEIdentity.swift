/// Intel's identity of the Quoting Enclave (SGX "QE") or the TD Quoting Enclave ("TD_QE").
///
/// Intel PCS API, "Enclave Identity" v2: MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES with their
/// masks, and TCB levels by ISVSVN.
struct QEIdentity: Sendable {
    var id: String
    var version: Int
    var issueDate: Int64
    var nextUpdate: Int64
    /// MISCSELECT and its mask as the 32-bit values the hex strings spell (big-endian text).
    var miscSelect: UInt32
    var miscSelectMask: UInt32
    var attributes: [UInt8]         // 16
    var attributesMask: [UInt8]     // 16
    var mrSigner: [UInt8]           // 32
    var isvProdID: UInt16
    var levels: [(isvSVN: UInt16, status: TCBStatus, advisoryIDs: [String])]

    init(body: [UInt8]) throws(VerificationFailure) {
        let json = try CollateralObject(parsing: body, path: "qe_identity")
        version = try json.integer("version", as: Int.self)
        guard version == 2 else {
            throw VerificationFailure(.malformedCollateral, "qe_identity.version = \(version); Coffer reads QE Identity version 2")
        }
        id = try json.string("id")
        issueDate = try CollateralDecoding.timestamp(try json.string("issueDate"), field: "qe_identity.issueDate")
        nextUpdate = try CollateralDecoding.timestamp(try json.string("nextUpdate"), field: "qe_identity.nextUpdate")
        func word(_ text: String, _ field: String) throws(VerificationFailure) -> UInt32 {
            try CollateralDecoding.hex(text, count: 4, field: field).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        miscSelect = try word(try json.string("miscselect"), "qe_identity.miscselect")
        miscSelectMask = try word(try json.string("miscselectMask"), "qe_identity.miscselectMask")
        attributes = try CollateralDecoding.hex(try json.string("attributes"), count: 16, field: "qe_identity.attributes")
        attributesMask = try CollateralDecoding.hex(try json.string("attributesMask"), count: 16, field: "qe_identity.attributesMask")
        mrSigner = try CollateralDecoding.hex(try json.string("mrsigner"), count: 32, field: "qe_identity.mrsigner")
        isvProdID = try json.integer("isvprodid", as: UInt16.self)
        var levels: [(isvSVN: UInt16, status: TCBStatus, advisoryIDs: [String])] = []
        for (index, object) in try json.objects("tcbLevels").enumerated() {
            let level = try TCBInfoJSON.ModuleLevel(object)
            levels.append((level.isvSVN,
                           try CollateralDecoding.status(level.tcbStatus, field: "qe_identity.tcbLevels[\(index)].tcbStatus"),
                           level.advisoryIDs ?? []))
        }
        self.levels = levels
    }
}
