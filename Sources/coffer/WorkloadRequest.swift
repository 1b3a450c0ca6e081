import CofferCore
import CofferImage
import CofferWire

/// The `start` request for an image's program, Docker's way: the entrypoint (or `--entrypoint`)
/// followed by the command given on the command line, else by the image's cmd (none with
/// `--entrypoint`); the image's env then `-e`; the
/// image's workdir; the image's user unless overridden.
struct WorkloadRequest {
    var config: ImageConfig
    var command: [String]
    var entrypoint: String?
    var extraEnv: [String]
    var user: String?

    func start() throws(CofferError) -> StartProcess {
        // As in Docker, a new entrypoint drops the image's cmd; arguments given still follow it.
        let defaultArguments = entrypoint == nil ? config.cmd : []
        let argv = (entrypoint.map { [$0] } ?? config.entrypoint) + (command.isEmpty ? defaultArguments : command)
        guard let program = argv.first, !program.isEmpty else {
            throw CofferError(.invalidInput, "the image has no entrypoint or cmd: give a command after the image name")
        }
        for entry in extraEnv where !entry.contains("=") || entry.hasPrefix("=") {
            throw CofferError(.invalidInput, "-e \(entry): expected NAME=VALUE")
        }
        let (uid, gid) = try Self.parseUser(user ?? config.user)
        return StartProcess(
            argv: argv, env: config.env + extraEnv, cwd: config.workdir.isEmpty ? "/" : config.workdir, uid: uid, gid: gid)
    }

    /// `""`, `root`, `UID` or `UID:GID` (numeric). Names other than root need /etc/passwd from the
    /// image, which is not read yet.
    static func parseUser(_ text: String) throws(CofferError) -> (UInt32, UInt32) {
        if text.isEmpty || text == "root" || text == "0" { return (0, 0) }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let uid = UInt32(parts[0]) else {
            throw CofferError(.unsupported, "user \(text): only numeric UID[:GID] is supported for now (user names are not looked up in the image's /etc/passwd yet)")
        }
        guard parts.count == 2 else { return (uid, uid) }
        guard let gid = UInt32(parts[1]) else {
            throw CofferError(.unsupported, "user \(text): only numeric UID[:GID] is supported for now")
        }
        return (uid, gid)
    }
}
