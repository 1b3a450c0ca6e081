/// The records of a pax extended header (POSIX.1-2017, pax, "pax Extended Header"): each record
/// is `"%d %s=%s\n"`, its decimal length counting the whole record including the length itself.
///
/// Coffer applies `path`, `linkpath`, `size`, `uid`, `gid`, `mtime`, and extended attributes
/// written as `SCHILY.xattr.NAME` (GNU tar, star, Docker); other keywords (atime, uname, ...)
/// are read and ignored.
struct PaxRecords {
    var path: [UInt8]?
    var linkpath: [UInt8]?
    var size: UInt64?
    var uid: UInt64?
    var gid: UInt64?
    var mtime: Int64?
    var mtimeNanoseconds: Int?
    /// Extended attributes by name, values as raw bytes.
    var xattrs: [String: [UInt8]] = [:]

    init() {}

    /// Parses a pax header body. Throws a description of the first malformed record.
    init(parsing body: [UInt8]) throws(PaxError) {
        var i = 0
        while i < body.count {
            if body[i] == 0 { break }  // some writers pad the body with NULs
            var length = 0
            var j = i
            while j < body.count, body[j] != UInt8(ascii: " ") {
                let digit = Int(body[j]) - Int(UInt8(ascii: "0"))
                guard (0...9).contains(digit), length < (1 << 40) else { throw PaxError("bad record length") }
                length = length * 10 + digit
                j += 1
            }
            let end = i + length
            guard j < body.count, j > i, end <= body.count, end > j + 1, body[end - 1] == UInt8(ascii: "\n") else {
                throw PaxError("record length does not match its contents")
            }
            let record = body[(j + 1)..<(end - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else {
                throw PaxError("record without '='")
            }
            let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
            let value = Array(record[(equals + 1)...])
            try apply(key: key, value: value)
            i = end
        }
    }

    private mutating func apply(key: String, value: [UInt8]) throws(PaxError) {
        switch key {
        case "path": path = value
        case "linkpath": linkpath = value
        case "size": size = try Self.decimal(value, key)
        case "uid": uid = try Self.decimal(value, key)
        case "gid": gid = try Self.decimal(value, key)
        case "mtime": try parseTime(value)
        case _ where key.hasPrefix("SCHILY.xattr."):
            let name = String(key.dropFirst("SCHILY.xattr.".count))
            guard !name.isEmpty, !name.contains("\0") else { throw PaxError("empty extended attribute name") }
            xattrs[name] = value
        default: break
        }
    }

    /// `mtime` is decimal seconds, possibly negative, possibly with a fraction.
    private mutating func parseTime(_ value: [UInt8]) throws(PaxError) {
        var text = value[...]
        let negative = text.first == UInt8(ascii: "-")
        if negative { text = text.dropFirst() }
        let dot = text.firstIndex(of: UInt8(ascii: "."))
        let whole = try Self.decimal(Array(text[..<(dot ?? text.endIndex)]), "mtime")
        var nanos = 0
        if let dot {
            var digits = 0
            for byte in text[(dot + 1)...] {
                let digit = Int(byte) - Int(UInt8(ascii: "0"))
                guard (0...9).contains(digit) else { throw PaxError("bad mtime") }
                if digits < 9 { nanos = nanos * 10 + digit; digits += 1 }
            }
            while digits < 9 { nanos *= 10; digits += 1 }
        }
        let seconds = Int64(clamping: whole)
        mtime = negative ? -seconds : seconds
        mtimeNanoseconds = negative ? 0 : nanos
    }

    private static func decimal(_ value: [UInt8], _ key: String) throws(PaxError) -> UInt64 {
        guard !value.isEmpty else { throw PaxError("empty \(key)") }
        var result: UInt64 = 0
        for byte in value {
            let digit = UInt64(byte) &- UInt64(UInt8(ascii: "0"))
            guard digit <= 9 else { throw PaxError("bad \(key) '\(String(decoding: value, as: UTF8.self))'") }
            let (times, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw PaxError("\(key) out of range") }
            result = sum
        }
        return result
    }

    /// Global records (`g`) are overridden by a member's own (`x`).
    func overriding(with local: PaxRecords) -> PaxRecords {
        var merged = self
        if let v = local.path { merged.path = v }
        if let v = local.linkpath { merged.linkpath = v }
        if let v = local.size { merged.size = v }
        if let v = local.uid { merged.uid = v }
        if let v = local.gid { merged.gid = v }
        if let v = local.mtime { merged.mtime = v; merged.mtimeNanoseconds = local.mtimeNanoseconds }
        merged.xattrs.merge(local.xattrs) { _, new in new }
        return merged
    }
}

struct PaxError: Error {
    var detail: String
    init(_ detail: String) { self.detail = detail }
}
