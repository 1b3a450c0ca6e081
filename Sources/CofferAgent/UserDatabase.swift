import CofferWire

/// Who a process runs as: ids, supplementary groups and home, from the image's /etc/passwd and
/// /etc/group (no NSS in the guest; these files are under dm-verity, so they are the measured
/// image's). Resolution follows runc's: a numeric user not in passwd keeps its uid with gid 0 and
/// home `/`; a named user or group that does not exist is an error.
struct ResolvedUser: Equatable {
    var uid: UInt32
    var gid: UInt32
    var groups: [UInt32]
    var home: String
}

struct UserDatabase {
    struct Account {
        var name: String
        var uid: UInt32
        var gid: UInt32
        var home: String
    }
    struct Group {
        var name: String
        var gid: UInt32
        var members: [Substring]
    }

    var accounts: [Account]
    var groups: [Group]

    /// Parses passwd(5) and group(5) text; malformed lines are skipped, as libc does.
    init(passwd: String, group: String) {
        accounts = passwd.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 7, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { return nil }
            return Account(name: String(fields[0]), uid: uid, gid: gid, home: String(fields[5]))
        }
        groups = group.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, let gid = UInt32(fields[2]) else { return nil }
            return Group(name: String(fields[0]), gid: gid, members: fields[3].split(separator: ","))
        }
    }

    /// `""` (root), `USER`, `UID`, `USER:GROUP`, `UID:GID` and mixtures.
    func resolve(_ spec: String) throws(AgentFailure) -> ResolvedUser {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let userPart = parts.first.map(String.init) ?? ""
        var resolved: ResolvedUser
        var accountName: String?
        if userPart.isEmpty {
            let root = accounts.first { $0.uid == 0 }
            accountName = root?.name
            resolved = ResolvedUser(uid: 0, gid: root?.gid ?? 0, groups: [], home: root?.home ?? "/root")
        } else if let uid = UInt32(userPart) {
            let account = accounts.first { $0.uid == uid }
            accountName = account?.name
            resolved = ResolvedUser(uid: uid, gid: account?.gid ?? 0, groups: [], home: account?.home ?? "/")
        } else if let account = accounts.first(where: { $0.name == userPart }) {
            accountName = account.name
            resolved = ResolvedUser(uid: account.uid, gid: account.gid, groups: [], home: account.home)
        } else {
            throw AgentFailure(.start, "user \(userPart) is not in the image's /etc/passwd")
        }
        if parts.count == 2 {
            let groupPart = String(parts[1])
            if let gid = UInt32(groupPart) {
                resolved.gid = gid
            } else if let group = groups.first(where: { $0.name == groupPart }) {
                resolved.gid = group.gid
            } else {
                throw AgentFailure(.start, "group \(groupPart) is not in the image's /etc/group")
            }
        }
        if let accountName {
            resolved.groups = groups.filter { $0.members.contains(Substring(accountName)) }.map(\.gid)
        }
        if !resolved.groups.contains(resolved.gid) { resolved.groups.insert(resolved.gid, at: 0) }
        if resolved.home.isEmpty { resolved.home = "/" }
        return resolved
    }
}
