import CofferTestSupport
import Foundation
import Testing

@testable import CofferKBSProtocol

@Suite struct TOMLDocumentTests {
    private func parse(_ text: String) throws(TOMLError) -> TOMLDocument { try TOMLDocument(parsing: Array(text.utf8)) }

    /// Documents inside the subset, in every string form TOML has, as Confidential Containers writes
    /// init-data (`'''` blocks holding other TOML) and as Coffer writes it.
    static let accepted: [String] = [
        "version = \"0.1.0\"\nalgorithm = \"sha384\"\n\n[data]\n\"aa.toml\" = '''\n[token_configs]\n[token_configs.kbs]\nurl = \"http://1.2.3.4:8080\"\n'''\n",
        "# comment\nversion = '0.1.0' # trailing\r\nalgorithm=\"sha256\"\n[ data ]\nkey = \"a\\tb\\n\\\"q\\\" \\u00e9 \\U0001F600 \\\\\"\n",
        "[data]\nbare-key_1 = \"\"\n'lit key' = ''\n\"\" = \"empty key\"\n",
        "[data]\nx = \"\"\"\nline one\nline two \\\n    continued\n\"\"\"\n",
        "[data]\nx = \"\"\"one\"two\"\"three\"\"\"\"\"\ny = '''it''s'''''\n",
        "[data]\nx = '''C:\\path\\no escapes'''\n",
        "[a]\nk = \"1\"\n[b]\nk = \"2\"\n",
        "k = \"tab\tinside\"\n",
        "",
    ]

    @Test func agreesWithPythonsTomllibOnEveryAcceptedDocument() throws {
        let directory = try TemporaryDirectory()
        for (number, text) in Self.accepted.enumerated() {
            let document = try parse(text)
            let path = try directory.write("doc\(number).toml", text)
            let result = try run("python3", ["-c", "import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],'rb'))))", path])
            #expect(result.status == 0, "tomllib refused document \(number): \(result.stderr)")
            let reference = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
            var ours: [String: Any] = [:]
            for pair in document.root.pairs { ours[pair.key] = pair.value }
            for table in document.tables { ours[table.name] = Dictionary(uniqueKeysWithValues: table.pairs.map { ($0.key, $0.value) }) }
            #expect(NSDictionary(dictionary: ours).isEqual(to: reference), "document \(number): ours \(ours), tomllib \(reference)")
        }
    }

    @Test func keepsKeyAndTableOrder() throws {
        let document = try parse("z = \"1\"\na = \"2\"\n[second]\n[first]\nb = \"3\"\na = \"4\"\n")
        #expect(document.root.pairs.map(\.key) == ["z", "a"])
        #expect(document.tables.map(\.name) == ["second", "first"])
        #expect(document.table("first")?.pairs.map(\.key) == ["b", "a"])
    }

    /// Each is refused, and the reason names what is wrong. Python's tomllib refuses the ones that
    /// are not TOML at all; the rest are TOML outside init-data's subset.
    static let refused: [(text: String, reason: String, validTOML: Bool)] = [
        ("k = \"1\"\nk = \"2\"\n", "appears twice", false),
        ("[data]\nk = \"1\"\n[data]\n", "defined twice", false),
        ("data = \"x\"\n[data]\n", "redefines the key", false),
        ("[data]\nk = \"1\"\n\"k\" = \"2\"\n", "appears twice", false),
        ("k = 1\n", "a number or date", true),
        ("k = true\n", "a boolean", true),
        ("k = [\"a\"]\n", "an array", true),
        ("k = {a = \"b\"}\n", "an inline table", true),
        ("a.b = \"c\"\n", "dotted keys", true),
        ("[a.b]\n", "dotted table names", true),
        ("[[a]]\n", "arrays of tables", true),
        ("k = \"open\n", "newline inside a one-line string", false),
        ("k = \"x\" y = \"z\"\n", "one key = value per line", false),
        ("k = \"\\q\"\n", "unknown escape", false),
        ("k = \"\\uD800\"\n", "not a Unicode scalar", false),
        ("k = \"\\u12\"\n", "hexadecimal digits", false),
        ("k = \"a\u{01}b\"\n", "control character", false),
        ("k = '''open\n", "not closed", false),
        ("k = \"\"\"x\"\"\"\"\"\"\n", "too many quotes", false),
        ("k =\n", "has no value", false),
        ("= \"v\"\n", "expected a key", false),
        ("\u{FEFF}k = \"v\"\n", "byte order mark", false),
    ]

    @Test(arguments: 0..<refused.count)
    func refusesWithAReason(_ number: Int) throws {
        let (text, reason, validTOML) = Self.refused[number]
        #expect {
            try parse(text)
        } throws: { error in
            "\(error)".contains(reason)
        }
        let directory = try TemporaryDirectory()
        let path = try directory.write("bad.toml", text)
        let result = try run("python3", ["-c", "import sys,tomllib; tomllib.load(open(sys.argv[1],'rb'))", path])
        #expect((result.status == 0) == validTOML, "tomllib on refused document \(number): \(result.stderr)")
    }

    @Test func refusesInvalidUTF8AndNamesTheLine() throws {
        #expect(throws: TOMLError(line: 2, "a string is not valid UTF-8")) {
            try TOMLDocument(parsing: Array("a = \"x\"\nb = \"".utf8) + [0xC3, 0x28] + Array("\"\n".utf8))
        }
    }
}
