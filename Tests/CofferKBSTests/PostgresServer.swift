import CofferTestSupport
import Foundation

/// Debian's PostgreSQL server, started by a test: `initdb` into a temporary directory (trust auth,
/// one user `coffer`), `postgres` listening only on a unix socket in that directory (no TCP port,
/// so nothing else on the machine can reach it and no port can collide), stopped at the end.
/// PostgreSQL refuses to run as root, so under root it runs as the `postgres` user the Debian
/// package creates, through `setpriv`, which execs (so the process here IS the server and a
/// signal reaches it; `runuser` forks and swallows SIGINT, and waiting on it never ended).
/// Every wait is bounded and fails naming what did not happen. Missing PostgreSQL is a failure
/// naming the fix, never a skip.
final class PostgresServer: @unchecked Sendable {
    let directory: TemporaryDirectory
    let bin: String
    let socketDirectory: String
    private let process = Process()
    private let log: FileHandle

    /// Where Debian's packages put the server (`postgresql-15` on Debian 12), newest first.
    static func binDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted(by: >)
        for version in versions where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        throw TestFailure("PostgreSQL is not installed (no \(root)/*/bin/initdb): run scripts/install-deps, which installs Debian's postgresql package")
    }

    init() throws {
        bin = try Self.binDirectory()
        directory = try TemporaryDirectory("coffer-pg")
        socketDirectory = directory.path + "/socket"
        let data = directory.path + "/data"
        try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot {
            // The temporary directory is root's (0700); the server's user must own its files.
            let chown = try run("/bin/chown", ["-R", "postgres:postgres", directory.path])
            guard chown.status == 0 else { throw TestFailure("chown for the postgres user failed: \(chown.stderr)") }
        }
        let wrap: ([String]) -> (String, [String]) = { command in asRoot ? ("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + command) : (command[0], Array(command.dropFirst())) }
        let (initdb, initArguments) = wrap(["\(bin)/initdb", "-D", data, "-A", "trust", "-U", "coffer", "--no-sync", "-E", "UTF8"])
        let made = try run(initdb, initArguments, directory: directory.path)
        guard made.status == 0 else { throw TestFailure("initdb failed: \(made.stderr)") }
        let logPath = directory.path + "/server.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let (postgres, arguments) = wrap(["\(bin)/postgres", "-D", data, "-k", socketDirectory, "-c", "listen_addresses=", "-c", "max_connections=200"])
        process.executableURL = URL(fileURLWithPath: postgres)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let ready = poll(for: 60, every: 0.2, { () -> Bool in
            guard process.isRunning else { return true }
            return (try? run("\(bin)/pg_isready", ["-h", socketDirectory, "-U", "coffer", "-d", "postgres", "-t", "5"]).status) == 0
        }, until: { $0 })
        guard ready, process.isRunning else {
            throw TestFailure("postgres did not start: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        }
    }

    /// A fresh database on this server, and its `--database` URL.
    func createDatabase(_ name: String) throws -> String {
        let made = try run("\(bin)/createdb", ["-h", socketDirectory, "-U", "coffer", name], environment: Self.clientEnvironment)
        guard made.status == 0 else { throw TestFailure("createdb \(name) failed: \(made.stderr)") }
        return url(name)
    }

    func url(_ database: String) -> String { "postgres://coffer@/\(database)?host=\(socketDirectory)" }

    /// Runs SQL with psql; the rows unaligned, one a line.
    @discardableResult
    func sql(_ database: String, _ statement: String) throws -> String {
        let psql = FileManager.default.isExecutableFile(atPath: "\(bin)/psql") ? "\(bin)/psql" : "/usr/bin/psql"
        let result = try run(psql, ["-h", socketDirectory, "-U", "coffer", "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", statement],
                             environment: Self.clientEnvironment)
        guard result.status == 0 else { throw TestFailure("psql \(statement): \(result.stderr)") }
        return result.stdout
    }

    /// libpq's clients (createdb, psql) give up connecting after 10 s instead of waiting forever.
    static let clientEnvironment = ["PGCONNECT_TIMEOUT": "10"]

    /// Fast shutdown (SIGINT: disconnects clients, then exits), waited for at most 30 s, then
    /// SIGKILL. Never an unbounded wait (`waitUntilExit` on a process that ignores the signal
    /// spins forever).
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(pid, SIGINT)
        if poll(for: 30, every: 0.1, { process.isRunning }, until: { !$0 }) {
            kill(pid, SIGKILL)
            _ = poll(for: 10, every: 0.1, { process.isRunning }, until: { !$0 })
        }
    }

    deinit { stop() }

    /// Started on a thread of its own: `init` blocks (initdb, waiting for the server) and must not
    /// hold one of Swift's few cooperative threads while other suites need them.
    static func start() async throws -> PostgresServer { try await onItsOwnThread { try PostgresServer() } }

    /// `stop()`, waited for off the cooperative pool.
    func stopped() async { try? await onItsOwnThread { self.stop() } }
}

/// Runs blocking test set-up (processes started and waited for) on a new thread, not on Swift's
/// cooperative pool, and returns its result.
func onItsOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }.start()
    }
}
