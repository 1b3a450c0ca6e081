import CofferImage
import CofferWire
import Foundation
import Testing

/// The exec policy in the manifest: the Cofferfile's exact entries, the builder's defaults, and the
/// canonical JSON that feeds the image id, pinned.
@Suite struct ExecPolicyManifestTests {
    @Test func cofferfileEntriesAreExact() throws {
        let spec = try Cofferfile.parse(
            "exec: [/usr/bin/id, [/bin/cat, /proc/meminfo], {argv: [/usr/bin/status], trailing_args: true, env: [TERM], user: \"1000:1000\", cwd: /}]\n",
            directory: "/d", path: "Cofferfile")
        #expect(spec.exec == .exact([
            .init(argv: ["/usr/bin/id"]), .init(argv: ["/bin/cat", "/proc/meminfo"]),
            .init(argv: ["/usr/bin/status"], trailingArguments: true, env: ["TERM"], user: "1000:1000", cwd: "/"),
        ]))
        // The image's user and workdir fill what an entry leaves out; what it names stays.
        #expect(spec.exec.resolved(user: "0:0", cwd: "/srv") == .exact([
            .init(argv: ["/usr/bin/id"], user: "0:0", cwd: "/srv"), .init(argv: ["/bin/cat", "/proc/meminfo"], user: "0:0", cwd: "/srv"),
            .init(argv: ["/usr/bin/status"], trailingArguments: true, env: ["TERM"], user: "1000:1000", cwd: "/"),
        ]))
    }

    /// Golden: the canonical JSON (sorted keys, no whitespace) of a fixed policy, written by hand
    /// from the format documented in ExecPolicy+Codable.swift. It feeds the image id.
    @Test func theManifestEncodingIsPinned() throws {
        let policy = ExecPolicy.exact([
            .init(argv: ["/bin/cat", "/proc/meminfo"], user: "0:0", cwd: "/"),
            .init(argv: ["/usr/bin/status"], trailingArguments: true, env: ["TERM"], user: "1000:1000", cwd: "/srv"),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(policy), as: UTF8.self)
        #expect(json == #"{"entries":[{"argv":["/bin/cat","/proc/meminfo"],"cwd":"/","env":[],"trailing_args":false,"user":"0:0"},{"argv":["/usr/bin/status"],"cwd":"/srv","env":["TERM"],"trailing_args":true,"user":"1000:1000"}],"mode":"exact"}"#)
        #expect(try JSONDecoder().decode(ExecPolicy.self, from: Data(json.utf8)) == policy)
        #expect(String(decoding: try encoder.encode(ExecPolicy.deny), as: UTF8.self) == #"{"mode":"deny"}"#)
        // The old prefix form and entries the agent would refuse do not decode.
        for bad in [#"{"mode":"prefixes","prefixes":[["/bin/cat"]]}"#, #"{"mode":"exact","entries":[{"argv":["cat"]}]}"#] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(ExecPolicy.self, from: Data(bad.utf8)) }
        }
    }
}
