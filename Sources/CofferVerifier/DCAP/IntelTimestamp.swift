import CofferCore
import SwiftASN1

/// Seconds since the Unix epoch (UTC) for the timestamps DCAP collateral carries: RFC 3339
/// strings in TCB Info and QE Identity ("2025-06-19T10:56:11Z"), UTCTime/GeneralizedTime in CRLs.
///
/// Kept as plain integers so that comparing a window with the verification time is exact and
/// needs no calendar or locale.
enum IntelTimestamp {
    /// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's civil algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func seconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64 {
        Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`; nil for anything else (offsets other than Z are
    /// not used by Intel PCS and are refused rather than guessed).
    static func parse(_ text: String) -> Int64? {
        let c = Array(text.utf8)
        guard c.count >= 20, c[4] == UInt8(ascii: "-"), c[7] == UInt8(ascii: "-"),
              c[10] == UInt8(ascii: "T"), c[13] == UInt8(ascii: ":"), c[16] == UInt8(ascii: ":"),
              c.last == UInt8(ascii: "Z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard c[i] >= 48, c[i] <= 57 else { return nil }
                value = value * 10 + Int(c[i] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        if c.count > 20 {
            // Fractional seconds: digits only, ignored (and never accumulated, so no overflow).
            guard c[19] == UInt8(ascii: "."), c.count > 21, c[20..<(c.count - 1)].allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        }
        return seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    /// A CRL `Time` (UTCTime or GeneralizedTime) in seconds.
    static func seconds(_ node: ASN1Node) throws -> Int64 {
        if node.identifier == .utcTime {
            let t = try UTCTime(derEncoded: node)
            return seconds(year: t.year, month: t.month, day: t.day, hour: t.hours, minute: t.minutes, second: t.seconds)
        }
        let t = try GeneralizedTime(derEncoded: node)
        return seconds(year: t.year, month: t.month, day: t.day, hour: t.hours, minute: t.minutes, second: t.seconds)
    }

    /// Renders seconds as `YYYY-MM-DDTHH:MM:SSZ` for messages.
    static func render(_ seconds: Int64) -> String {
        let t = CivilTime(secondsSince1970: seconds)
        let two = CivilTime.twoDigits
        return "\(t.year)-\(two(t.month))-\(two(t.day))T\(two(t.hour)):\(two(t.minute)):\(two(t.second))Z"
    }
}
