import CofferCore
import Testing

@Suite struct CivilTimeTests {
    @Test func knownInstants() {
        // RFC 9110's example, a leap day, the last second of 1999, and the second before 1970.
        #expect(CivilTime(secondsSince1970: 784_111_777) == CivilTime(year: 1994, month: 11, day: 6, hour: 8, minute: 49, second: 37, weekday: 0))
        #expect(CivilTime(secondsSince1970: 951_782_400) == CivilTime(year: 2000, month: 2, day: 29, hour: 0, minute: 0, second: 0, weekday: 2))
        #expect(CivilTime(secondsSince1970: 946_684_799) == CivilTime(year: 1999, month: 12, day: 31, hour: 23, minute: 59, second: 59, weekday: 5))
        #expect(CivilTime(secondsSince1970: -1) == CivilTime(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59, weekday: 3))
        #expect(CivilTime.twoDigits(7) == "07")
        #expect(CivilTime.twoDigits(42) == "42")
    }
}
