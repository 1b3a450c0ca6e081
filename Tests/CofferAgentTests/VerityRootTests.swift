@testable import CofferAgent
import CofferWire
import Testing

/// The agent's reading of the measured kernel command line: the values go verbatim into a dm
/// table, so anything but exactly one well-formed `coffer.verity=` is refused.
@Suite struct VerityRootTests {
    let hash = String(repeating: "0123456789abcdef", count: 4)

    @Test func parsesTheLaunchersArgumentIntoAVerityTable() throws {
        let root = try #require(try VerityRoot.parse(commandLine: "console=ttyS0 panic=-1 coffer.verity=\(hash),00ff,187\n"))
        #expect(root == VerityRoot(rootHash: hash, salt: "00ff", dataBlocks: 187))
        #expect(root.tableParameters(data: "/dev/vda", hash: "/dev/vdb") == "1 /dev/vda /dev/vdb 4096 4096 187 1 sha256 \(hash) 00ff")
        // An empty salt is "-" in a verity table.
        #expect(try VerityRoot.parse(commandLine: "coffer.verity=\(hash),,1")?.salt == "-")
        #expect(try VerityRoot.parse(commandLine: "console=ttyS0 rdinit=/init") == nil)
    }

    @Test func refusesAnythingThatIsNotExactlyOneWellFormedArgument() {
        let bad = [
            "coffer.verity=\(hash),00,1 coffer.verity=\(hash),00,2",  // two: which one was verified?
            "coffer.verity=\(hash.uppercased()),00,1",
            "coffer.verity=\(hash.dropLast()),00,1",
            "coffer.verity=\(hash),00,0",
            "coffer.verity=\(hash),00,-1",
            "coffer.verity=\(hash),zz,1",
            "coffer.verity=\(hash),00 1 /dev/evil,1",
            "coffer.verity=\(hash),00,1,extra",
            "coffer.verity=\(hash),00,1099511627776",
        ]
        for commandLine in bad {
            #expect(throws: (any Error).self, "\(commandLine)") { try VerityRoot.parse(commandLine: commandLine) }
        }
    }
}

extension VerityRoot {
    /// Through the one kernel command line reader, as the agent reads it.
    static func parse(commandLine text: String) throws -> VerityRoot? { try parse(commandLine: KernelCommandLine(text)) }
}
