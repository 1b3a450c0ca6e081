import Foundation

/// The `Set-Cookie` value for `kbs-session-id`, as Trustee sets it (an expiry, no Path: the
/// default path `/kbs/v0` covers every route, also behind a proxy's prefix), plus `HttpOnly` and
/// `Secure` on HTTPS. The same text Hummingbird's `Cookie` renders
/// (`NAME=VALUE; Expires=…; Max-Age=…; Secure; HttpOnly`), without its Calendar-based date
/// formatting, which cost more than an ES256 signature on every auth and attest.
enum SessionCookie {
    static func header(session: String, expiry: Date, maxAge: Int, secure: Bool) -> String {
        var text = KBSProtocol.sessionCookie + "=" + session + "; Expires=" + httpDate(expiry) + "; Max-Age=" + String(maxAge)
        if secure { text += "; Secure" }
        return text + "; HttpOnly"
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, from the proleptic
    /// Gregorian calendar in UTC (days-from-civil inverted, H. Hinnant's algorithm).
    static func httpDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let dayNumber = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - dayNumber * 86_400)
        let weekday = Int((dayNumber % 7 + 11) % 7)  // 1970-01-01 was a Thursday (4)
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0" + String(n) : String(n) }
        return days[weekday] + ", " + two(day) + " " + months[month - 1] + " " + String(year) + " "
            + two(secondOfDay / 3600) + ":" + two(secondOfDay / 60 % 60) + ":" + two(secondOfDay % 60) + " GMT"
    }
}
