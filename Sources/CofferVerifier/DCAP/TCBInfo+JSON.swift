/// TCB Info as JSON (Intel PCS API, TCB Info v2 and v3), before validation into `TCBInfo`.
struct TCBInfoJSON: Decodable {
    struct Component: Decodable { var svn: UInt8 }

    /// `tcb`: v3 lists `sgxtcbcomponents`/`tdxtcbcomponents`; v2 has `sgxtcbcomp01svn`…`16svn`.
    struct TCB: Decodable {
        var sgx: [UInt8]
        var tdx: [UInt8]
        var pceSVN: UInt16

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ name: String) { stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            pceSVN = try container.decode(UInt16.self, forKey: Key("pcesvn"))
            if container.contains(Key("sgxtcbcomponents")) {
                sgx = try container.decode([Component].self, forKey: Key("sgxtcbcomponents")).map(\.svn)
                tdx = try container.decodeIfPresent([Component].self, forKey: Key("tdxtcbcomponents"))?.map(\.svn) ?? []
            } else {
                sgx = try (1...16).map { index in
                    try container.decode(UInt8.self, forKey: Key(index < 10 ? "sgxtcbcomp0\(index)svn" : "sgxtcbcomp\(index)svn"))
                }
                tdx = []
            }
        }
    }

    struct Level: Decodable {
        var tcb: TCB
        var tcbStatus: String
        var advisoryIDs: [String]?
    }

    struct ISVSVN: Decodable { var isvsvn: UInt16 }

    struct ModuleLevel: Decodable {
        var tcb: ISVSVN
        var tcbStatus: String
        var advisoryIDs: [String]?
    }

    struct Module: Decodable {
        var id: String?
        var mrsigner: String
        var attributes: String
        var attributesMask: String
        var tcbLevels: [ModuleLevel]?
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
}
