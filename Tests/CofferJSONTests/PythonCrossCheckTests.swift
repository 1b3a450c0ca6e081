import Foundation
import Testing
import CofferJSON

private let python3: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// A second, independent reader: Python's json module (made strict: no NaN or Infinity, a name
/// twice is an error) must read the same value from each document, and refuse what we refuse
/// among the cases where RFC 8259 and Python agree. Skipped when python3 is not installed.
@Suite(.enabled(if: python3 != nil, "needs python3 in /usr/bin or /usr/local/bin"))
struct PythonCrossCheckTests {
    static let valid = [
        #"{"version":"0.4.0","tee":"sample","extra-params":{"supported-hash-algorithms":["sha256","sha384"]}}"#,
        #" [1, -2.5e3, 0, 0.125, true, false, null, "a\"b\\c\/d\n\t\u00e9\ud83d\ude00"] "#,
        #"{"nested":{"a":[{"b":[]},{}],"c":""},"n":-0.0,"big":1e300,"u":18446744073709551615}"#,
        #"{"ociVersion":"1.0.2","process":{"args":["sh","-c","echo \"hi\""],"env":["PATH=/bin"]},"linux":{"resources":{"memory":{"limit":9223372036854775807}}}}"#,
        #"{"tcbInfo":{"id":"SGX","version":3,"tcbLevels":[{"tcb":{"sgxtcbcomponents":[{"svn":255}],"pcesvn":13},"tcbStatus":"UpToDate"}]},"signature":"ab01"}"#,
        "\"\u{7f}\u{80}\u{ffff}\u{10ffff}\"", #""\u0000\u001f\uffff""#, "[[[[[[[[[[]]]]]]]]]]", "{}", "0", "-1E-7", "\"\"",
    ]

    static let invalid = [
        #"{"a":1,"a":2}"#, "[1,]", "{\"a\":1,}", "01", "1.", ".5", "NaN", "Infinity", "[1] 2", "\"\u{1}\"", "\"\\x\"", "{a:1}", "'a'", "",
    ]

    /// Python's reading of each document: its canonical dump (sorted keys, no spaces), or nil.
    func pythonReadings(_ documents: [String]) throws -> [String?] {
        let script = """
        import sys, json, binascii
        def pairs(items):
            names = [k for k, _ in items]
            if len(set(names)) != len(names): raise ValueError("duplicate")
            return dict(items)
        def constant(name): raise ValueError(name)
        for line in sys.stdin.read().split():
            try:
                value = json.loads(binascii.unhexlify(line).decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
                print(json.dumps(value, sort_keys=True, separators=(",", ":")))
            except Exception:
                print("ERROR")
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(python3))
        process.arguments = ["-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let hex = documents.map { $0.utf8.map { String(format: "%02x", $0) }.joined() + "\n" }.joined()
        input.fileHandleForWriting.write(Data(hex.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").map { $0 == "ERROR" ? nil : String($0) }
    }

    /// Both readings compared through the canonical form, which normalises what may be written
    /// differently for one value (number spelling, escapes, member order).
    func canonical(_ value: JSONValue) -> [UInt8] { CanonicalJSON.serialize(value) }

    @Test func pythonReadsTheSameValues() throws {
        let readings = try pythonReadings(Self.valid)
        try #require(readings.count == Self.valid.count)
        for (document, reading) in zip(Self.valid, readings) {
            let ours = try JSONValue.parse(document)
            let dumped = try #require(reading, "python refused \(document)")
            let theirs = try JSONValue.parse(dumped)
            #expect(canonical(ours) == canonical(theirs), "\(document) vs \(dumped)")
        }
    }

    @Test func pythonRefusesWhatWeRefuse() throws {
        // An empty line would carry no document to Python: white space only stands for it.
        let documents = Self.invalid.map { $0.isEmpty ? " " : $0 }
        let readings = try pythonReadings(documents)
        try #require(readings.count == documents.count)
        for (document, reading) in zip(documents, readings) {
            #expect(throws: JSONError.self, "\(document)") { try JSONValue.parse(document) }
            #expect(reading == nil, "python read \(document.debugDescription) as \(reading ?? "")")
        }
    }
}
