import CofferVerifier
import CofferJSON

/// Verified claims as the token and the audit digest carry them: the same snake-case names as
/// `Claims`' Codable form (`tcb_status` absent when there is none), built directly.
extension Claims {
    var json: JSONValue {
        var members: [String: JSONValue] = [
            "tee": .string(tee.rawValue),
            "hardware_backed": .bool(hardwareBacked),
            "advisory_ids": .array(advisoryIDs.map(JSONValue.string)),
            "measurements": .object(measurements.mapValues(JSONValue.string)),
            "report_data": .string(reportData),
            "details": .object(details.mapValues(JSONValue.string)),
        ]
        if let tcbStatus { members["tcb_status"] = .string(tcbStatus.rawValue) }
        return .object(members)
    }

    init?(json: JSONValue) {
        func strings(_ value: JSONValue?) -> [String: String]? {
            guard case .object(let members)? = value else { return nil }
            var out: [String: String] = [:]
            for (key, member) in members {
                guard let text = member.stringValue else { return nil }
                out[key] = text
            }
            return out
        }
        guard let tee = json["tee"]?.stringValue.flatMap(TEEType.init(rawValue:)),
              case .bool(let hardwareBacked)? = json["hardware_backed"],
              case .array(let advisories)? = json["advisory_ids"],
              let measurements = strings(json["measurements"]), let details = strings(json["details"]),
              let reportData = json["report_data"]?.stringValue else { return nil }
        var tcbStatus: TCBStatus?
        if let status = json["tcb_status"] {
            guard let parsed = status.stringValue.flatMap(TCBStatus.init(rawValue:)) else { return nil }
            tcbStatus = parsed
        }
        self.init(tee: tee, hardwareBacked: hardwareBacked, tcbStatus: tcbStatus, advisoryIDs: advisories.compactMap(\.stringValue),
                  measurements: measurements, reportData: reportData, details: details)
    }
}
