/// A memory size written with a binary unit: `512M`, `2G`, `1536MiB`, `64K`, `1T` (or `B`).
/// A bare number is refused: it is too easy to mean megabytes and write bytes.
public enum MemorySize {
    public static func parse(_ text: String) -> UInt64? {
        let digits = text.prefix(while: \.isASCII).prefix(while: \.isNumber)
        guard !digits.isEmpty, let value = UInt64(digits) else { return nil }
        let unit = text.dropFirst(digits.count).trimmingPrefix(" ").uppercased()
        let shift: UInt64
        switch unit {
        case "B": shift = 0
        case "K", "KB", "KIB": shift = 10
        case "M", "MB", "MIB": shift = 20
        case "G", "GB", "GIB": shift = 30
        case "T", "TB", "TIB": shift = 40
        default: return nil
        }
        guard value > 0, value <= UInt64.max >> shift else { return nil }
        return value << shift
    }

    /// The largest whole unit: 536870912 → "512M".
    public static func format(_ bytes: UInt64) -> String {
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes % (1 << shift) == 0 && bytes > 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)B"
    }
}
