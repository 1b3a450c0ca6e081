import CofferCore
import Foundation

/// Runs a host tool (mkfs.erofs) and turns its failure into an error quoting what it said.
///
/// posix_spawn and waitpid rather than Foundation's Process: no run loop, no timers, so the
/// builder behaves the same under a shifted clock (the reproducibility test runs it under
/// faketime, where Process.waitUntilExit never returns).
enum ExternalTool {
    static func locate(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func run(_ name: String, _ arguments: [String], package: String) throws(CofferError) {
        guard let executable = locate(name) else {
            throw CofferError(.notFound, "\(name) not found: install Debian's \(package) package (make deps does)")
        }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { throw FileSystem.error("cannot create a pipe for \(name)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
        posix_spawn_file_actions_addclose(&actions, pipeFDs[1])

        // `coffer build` ignores SIGINT and SIGTERM to clean up first; the tool must not inherit that.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        // Sound: argv is a NULL-terminated array of C strings alive until after posix_spawn returns.
        let spawned = argv.withUnsafeBufferPointer { posix_spawn(&pid, executable, &actions, &attributes, $0.baseAddress!, environ) }
        close(pipeFDs[1])
        guard spawned == 0 else {
            close(pipeFDs[0])
            throw FileSystem.error("cannot start \(executable)", errno: spawned)
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            output += buffer[0..<n]
        }
        close(pipeFDs[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let said = String(decoding: output, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: "; ")
            let how = exited ? "status \(code)" : "signal \(status & 0x7f)"
            throw CofferError(.system, "\(name) failed (\(how)): \(said)")
        }
    }
}
