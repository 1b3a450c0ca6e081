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
        let json = try CollateralJSON(bytes: body, path: "qe_identity")
        version = try json.int("version")
        guard version == 2 else { throw json.fail("version", "= \(version); Coffer reads QE Identity version 2") }
        id = try json.string("id")
        issueDate = try json.timestamp("issueDate")
        nextUpdate = try json.timestamp("nextUpdate")
        func word(_ key: String) throws(VerificationFailure) -> UInt32 {
            try json.hex(key, count: 4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        miscSelect = try word("miscselect")
        miscSelectMask = try word("miscselectMask")
        attributes = try json.hex("attributes", count: 16)
        attributesMask = try json.hex("attributesMask", count: 16)
        mrSigner = try json.hex("mrsigner", count: 32)
        isvProdID = try json.svn("isvprodid", as: UInt16.self)
        var levels: [(isvSVN: UInt16, status: TCBStatus, advisoryIDs: [String])] = []
        for level in try json.children("tcbLevels") {
            levels.append((try level.child("tcb").svn("isvsvn", as: UInt16.self),
                           try level.status("tcbStatus"), try level.strings("advisoryIDs")))
        }
        self.levels = levels
    }
}
