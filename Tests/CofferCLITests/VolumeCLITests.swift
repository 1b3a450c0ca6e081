import CofferTestSupport
import Foundation
import Testing

/// `coffer volume` on the host side: the store, the disk file and the refusals. What the guest
/// does with a volume is tested in the VM suites.
@Suite struct VolumeCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")

    struct Row: Decodable { var name: String; var size: UInt64; var key: String; var format: String; var state: String; var disk: String? }

    @Test func createListInspectRemove() throws {
        let home = try TemporaryDirectory("home")
        let created = try coffer(home.path, ["volume", "create", "data", "--size", "64M", "--key", "kbs:///default/volume/data"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout == "data\n")

        let inspected = try coffer(home.path, ["volume", "inspect", "data"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        let row = try JSONDecoder().decode(Row.self, from: Data(inspected.stdout.utf8))
        #expect(row.size == 64 << 20 && row.key == "kbs:///default/volume/data" && row.format == "coffer-volume-1")
        #expect(row.state == "unformatted")
        // A sparse disk of exactly the size, all zeros, only the owner may read it.
        let disk = try #require(row.disk)
        let attributes = try FileManager.default.attributesOfItem(atPath: disk)
        #expect((attributes[.size] as? NSNumber)?.uint64Value == 64 << 20)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        // What the guest would refuse to format shows as foreign; a dm-integrity superblock as formatted.
        try sh("printf 'x' | dd of=\(disk) bs=1 seek=4000 conv=notrunc status=none")
        #expect(try listed(home.path).first?.state == "foreign")
        try sh("printf 'integrt\\000' | dd of=\(disk) bs=1 conv=notrunc status=none")
        #expect(try listed(home.path).first?.state == "formatted")

        let again = try coffer(home.path, ["volume", "create", "data", "--size", "64M", "--key", "kbs:///default/volume/other"])
        #expect(again.status != 0 && again.stderr.contains("exists already"), "\(again.stderr)")

        #expect(try coffer(home.path, ["volume", "rm", "data"]).status == 0)
        #expect(try listed(home.path).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: disk))
        let gone = try coffer(home.path, ["volume", "inspect", "data"])
        #expect(gone.status != 0 && gone.stderr.contains("no volume named data"), "\(gone.stderr)")
    }

    static let refused: [(arguments: [String], says: String)] = [
        (["create", "Bad/Name", "--size", "64M", "--key", "kbs:///a/b/c"], "volume name"),
        (["create", "../escape", "--size", "64M", "--key", "kbs:///a/b/c"], "volume name"),
        (["create", "v", "--size", "1M", "--key", "kbs:///a/b/c"], "between 32M and 16T"),
        (["create", "v", "--size", "64X", "--key", "kbs:///a/b/c"], "binary units"),
        (["create", "v", "--size", "33554433", "--key", "kbs:///a/b/c"], "multiple of 4096"),
        (["create", "v", "--size", "99999999999999999999G", "--key", "kbs:///a/b/c"], "binary units"),
        (["create", "v", "--size", "64M", "--key", "https://example.com/key"], "kbs:///REPO/TYPE/TAG"),
        (["create", "v", "--size", "64M", "--key", "kbs:///a/../c"], "kbs:///REPO/TYPE/TAG"),
        (["inspect", "missing"], "no volume named missing"),
        (["rm", "missing"], "no volume named missing"),
    ]

    @Test(arguments: 0..<refused.count)
    func refusesBadInputNamingIt(_ number: Int) throws {
        let home = try TemporaryDirectory("home")
        let (arguments, says) = Self.refused[number]
        let result = try coffer(home.path, ["volume"] + arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(says), "\(arguments): \(result.stderr)")
        #expect(try listed(home.path).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(home.path)/volumes/v"))
    }

    private func listed(_ home: String) throws -> [Row] {
        let result = try coffer(home, ["volume", "ls", "--format", "json"])
        guard result.status == 0 else { throw TestFailure("volume ls: \(result.stderr)") }
        return try JSONDecoder().decode([Row].self, from: Data(result.stdout.utf8))
    }
}
