import CofferKBSProtocol
import CofferSys
import CofferWire
import Glibc

/// Where provisioning puts the secrets: a tmpfs on /run/secrets in the workload's root in the
/// guest (`SecretsDirectory.workloadRoot`), a temporary directory in tests.
protocol SecretStore {
    /// Makes /run/secrets ready and empty (the guest mounts its tmpfs).
    func prepare() throws(AgentFailure)
    /// Creates `path` (absolute, under /run/secrets, already validated) holding `bytes`, mode
    /// 0400, owned by `owner`; its parent directories root-owned 0755.
    func place(_ bytes: [UInt8], at path: String, owner: (uid: UInt32, gid: UInt32)) throws(AgentFailure)
}

/// /run/secrets below `root` ("" is the workload's root, the agent's own after the overlay).
///
/// Security: a tmpfs (never on the host's disks), nosuid, nodev, noexec, root-owned 0711 so only
/// who knows a name can reach it; each file is made with O_CREAT|O_EXCL|O_NOFOLLOW and every
/// directory is opened with O_NOFOLLOW, so nothing is written through a link or over a file.
struct SecretsDirectory: SecretStore {
    static let workloadRoot = SecretsDirectory(root: "", mountsTmpfs: true)

    let root: String
    let mountsTmpfs: Bool

    var directory: String { root + LaunchConfiguration.secretsDirectory }

    func prepare() throws(AgentFailure) {
        do {
            if mountsTmpfs {
                try Mount.mount("tmpfs", on: directory, type: "tmpfs", flags: UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), data: "mode=0711,size=16m")
            } else {
                try Mount.makeDirectory(directory, mode: 0o711)
            }
        } catch {
            throw AgentFailure(.secrets, "mounting the secrets tmpfs on \(LaunchConfiguration.secretsDirectory): \(error)")
        }
        guard chmod(directory, 0o711) == 0, chown(directory, 0, 0) == 0 else { throw failure("chmod/chown", LaunchConfiguration.secretsDirectory) }
    }

    func place(_ bytes: [UInt8], at path: String, owner: (uid: UInt32, gid: UInt32)) throws(AgentFailure) {
        let parts = path.dropFirst(LaunchConfiguration.secretsDirectory.utf8.count + 1).split(separator: "/").map(String.init)
        guard let name = parts.last else { throw AgentFailure(.secrets, "secret path \(path) names no file") }
        var current = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard current >= 0 else { throw failure("open", LaunchConfiguration.secretsDirectory) }
        var walked = LaunchConfiguration.secretsDirectory
        for part in parts.dropLast() {
            walked += "/" + part
            if mkdirat(current, part, 0o755) != 0 && errno != EEXIST {
                close(current)
                throw failure("mkdir", walked)
            }
            let next = openat(current, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(current)
            guard next >= 0 else { throw failure("open", walked) }
            guard fchown(next, 0, 0) == 0, fchmod(next, 0o755) == 0 else {
                close(next)
                throw failure("chown/chmod", walked)
            }
            current = next
        }
        let fd = openat(current, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o400)
        close(current)
        guard fd >= 0 else { throw failure("create", path) }
        let file = FileDescriptor(rawValue: fd)
        defer { file.close() }
        // fchmod after create: the umask must not widen or narrow 0400.
        guard fchown(fd, owner.uid, owner.gid) == 0, fchmod(fd, 0o400) == 0 else { throw failure("chown/chmod", path) }
        do { try file.writeAll(bytes) } catch { throw AgentFailure(.secrets, "writing \(path): \(error)") }
    }

    private func failure(_ what: String, _ path: String) -> AgentFailure {
        AgentFailure(.secrets, "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}

/// Overwrites a plaintext buffer once it is used (explicit_bzero: not optimised away).
func wipe(_ bytes: inout [UInt8]) {
    // Sound: clears exactly the bytes the array owns.
    bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } }
}
