import CofferCore
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

    /// IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ date: Date) -> String {
        let t = CivilTime(secondsSince1970: Int64(date.timeIntervalSince1970.rounded(.down)))
        let two = CivilTime.twoDigits
        return days[t.weekday] + ", " + two(t.day) + " " + months[t.month - 1] + " " + String(t.year) + " "
            + two(t.hour) + ":" + two(t.minute) + ":" + two(t.second) + " GMT"
    }
}
