import Foundation

/// The guest's serial console as QEMU wrote it to a file.
public enum ConsoleLog {
    /// The last `lines` lines of the console file, with control characters other than newlines
    /// and tabs replaced: the console is guest output and may hold anything.
    public static func tail(_ path: String, lines: Int = 25) -> String {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return "(the console is empty)" }
        let text = String(decoding: data.suffix(64 * 1024), as: UTF8.self)
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.compactMap { scalar -> Unicode.Scalar? in
            if scalar == "\r" { return nil }
            if scalar.value < 0x20, scalar != "\n", scalar != "\t" { return "?" }
            return scalar
        }))
        let all = cleaned.split(separator: "\n", omittingEmptySubsequences: false)
        let trimmed = all.last == "" ? all.dropLast() : all[...]
        return trimmed.suffix(lines).joined(separator: "\n")
    }
}
