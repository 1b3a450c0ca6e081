/// A Unix time as a UTC date and time of the proleptic Gregorian calendar, without Foundation's
/// Calendar (costly per call, and absent from the agent's libraries). Days-from-civil inverted
/// (H. Hinnant's `civil_from_days`).
public struct CivilTime: Sendable, Equatable {
    public var year: Int
    /// 1-12.
    public var month: Int
    /// 1-31.
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// 0 = Sunday ... 6 = Saturday.
    public var weekday: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second, self.weekday) = (year, month, day, hour, minute, second, weekday)
    }

    public init(secondsSince1970 seconds: Int64) {
        let dayNumber = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - dayNumber * 86_400)
        weekday = Int((dayNumber % 7 + 11) % 7)  // 1970-01-01 was a Thursday (4)
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        month = Int(mp < 10 ? mp + 3 : mp - 9)
        year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
    }

    /// Two digits, zero-padded (for the fields below 100).
    public static func twoDigits(_ value: Int) -> String { value < 10 ? "0" + String(value) : String(value) }
}
