@testable import CofferAgent
import CofferWire
import Testing

/// Users and groups as the agent resolves them from the image's /etc/passwd and /etc/group
/// (runc's rules: a numeric user not in passwd keeps its uid with gid 0).
@Suite struct UserDatabaseTests {
    let users = UserDatabase(
        passwd: """
            root:x:0:0:root:/root:/bin/sh
            alice:x:1000:1000:Alice:/home/alice:/bin/sh
            broken line
            nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin
            """,
        group: "root:x:0:\nalice:x:1000:\nstaff:x:50:alice,bob\nwheel:x:10:root\n")

    @Test func namesAndNumbersResolveWithSupplementaryGroups() throws {
        #expect(try users.resolve("") == ResolvedUser(uid: 0, gid: 0, groups: [0, 10], home: "/root"))
        #expect(try users.resolve("alice") == ResolvedUser(uid: 1000, gid: 1000, groups: [1000, 50], home: "/home/alice"))
        #expect(try users.resolve("1000") == ResolvedUser(uid: 1000, gid: 1000, groups: [1000, 50], home: "/home/alice"))
        #expect(try users.resolve("alice:staff") == ResolvedUser(uid: 1000, gid: 50, groups: [50], home: "/home/alice"))
        #expect(try users.resolve("4242") == ResolvedUser(uid: 4242, gid: 0, groups: [0], home: "/"))
        #expect(try users.resolve("4242:77") == ResolvedUser(uid: 4242, gid: 77, groups: [77], home: "/"))
    }

    @Test func unknownNamesAreErrors() {
        #expect(throws: AgentFailure.self) { try users.resolve("mallory") }
        #expect(throws: AgentFailure.self) { try users.resolve("alice:nogroup") }
        #expect(throws: AgentFailure.self) { try UserDatabase(passwd: "", group: "").resolve("alice") }
    }
}
