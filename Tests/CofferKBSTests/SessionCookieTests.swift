@testable import CofferKBS
import Foundation
import Testing

@Suite struct SessionCookieTests {
    @Test func httpDateMatchesRFC9110AndFoundationsFormatter() {
        // The example of RFC 9110 §5.6.7.
        #expect(SessionCookie.httpDate(Date(timeIntervalSince1970: 784_111_777)) == "Sun, 06 Nov 1994 08:49:37 GMT")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        // Epoch, a leap day, century boundaries, before 1970, and a spread of instants to 2100.
        var instants: [TimeInterval] = [0, 951_825_600, 946_684_799, 946_684_800, 4_102_444_800, -86_400, -1, 1_795_000_000.75]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<500 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            instants.append(TimeInterval(seed % 4_102_444_800))
        }
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            #expect(SessionCookie.httpDate(date) == formatter.string(from: date), "at \(instant)")
        }
    }

    @Test func headerCarriesExpiryMaxAgeAndFlags() {
        let expiry = Date(timeIntervalSince1970: 784_111_777)
        #expect(SessionCookie.header(session: "abc", expiry: expiry, maxAge: 300, secure: true)
            == "kbs-session-id=abc; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=300; Secure; HttpOnly")
        #expect(SessionCookie.header(session: "abc", expiry: expiry, maxAge: 300, secure: false)
            == "kbs-session-id=abc; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=300; HttpOnly")
    }
}
