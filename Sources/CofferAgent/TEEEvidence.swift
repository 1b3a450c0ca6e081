import CofferSys
import CofferWire
import Glibc

/// Evidence from the guest's TEE through the kernel's TSM report interface (configfs-tsm, Linux
/// 6.7+): write the report data to `inblob`, read the quote or report from `outblob`, and
/// `provider` says which TEE made it. A guest without it (no TEE, or an older kernel such as this
/// machine's 6.1) answers `none` with the reason: the launcher then knows it is development mode.
enum TEEEvidence {
    static let configfs = "/sys/kernel/config"
    static let reports = "/sys/kernel/config/tsm/report"
    nonisolated(unsafe) static var requests = 0

    static func obtain(reportData: [UInt8]) -> GuestEvidence {
        if access(reports, F_OK) != 0 {
            _ = try? Mount.mount("configfs", on: configfs, type: "configfs", flags: UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC))
        }
        guard access(reports, F_OK) == 0 else {
            return GuestEvidence(.none, Array("no TEE report interface in this guest (\(reports) is absent): not a confidential VM".utf8))
        }
        requests += 1
        let entry = "\(reports)/coffer-\(requests)"
        guard mkdir(entry, 0o700) == 0 else { return failure("mkdir \(entry)") }
        defer { rmdir(entry) }
        do {
            let input = try FileDescriptor.open("\(entry)/inblob", O_WRONLY)
            defer { input.close() }
            try input.writeAll(reportData)
            let provider = String(decoding: try readFile("\(entry)/provider") ?? [], as: UTF8.self).split(separator: "\n").first ?? ""
            let blob = try readFile("\(entry)/outblob") ?? []
            switch provider {
            case "tdx_guest": return GuestEvidence(.tdxQuote, blob)
            case "sev_guest": return GuestEvidence(.snpReport, blob)
            default: return GuestEvidence(.none, Array("the TSM provider \(provider) is not one Coffer verifies".utf8))
            }
        } catch {
            return GuestEvidence(.none, Array("the TEE report failed: \(error)".utf8))
        }
    }

    /// The TEE the TSM report interface serves (`none` without one), read from a fresh entry's `provider`.
    static func provider() -> GuestEvidence.Format {
        if access(reports, F_OK) != 0 {
            _ = try? Mount.mount("configfs", on: configfs, type: "configfs", flags: UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC))
        }
        guard access(reports, F_OK) == 0 else { return .none }
        requests += 1
        let entry = "\(reports)/coffer-\(requests)"
        guard mkdir(entry, 0o700) == 0 else { return .none }
        defer { rmdir(entry) }
        switch String(decoding: (try? readFile("\(entry)/provider")) ?? [], as: UTF8.self).split(separator: "\n").first ?? "" {
        case "tdx_guest": return .tdxQuote
        case "sev_guest": return .snpReport
        default: return .none
        }
    }

    private static func failure(_ what: String) -> GuestEvidence {
        GuestEvidence(.none, Array("\(what): \(String(cString: strerror(errno)))".utf8))
    }
}
