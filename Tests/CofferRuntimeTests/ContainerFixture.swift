import CofferTestSupport
import Foundation
@testable import CofferOCIRuntime
import CofferJSON

/// A busybox bundle (rootfs from Debian's busybox-static) and a private runc root, for one test.
final class ContainerFixture: @unchecked Sendable {
    let directory: TemporaryDirectory
    /// The bundle path as runc reports it (cleaned: NSTemporaryDirectory ends with a slash).
    var bundle: String { (directory.file("bundle") as NSString).standardizingPath }
    var root: String { directory.file("root") }
    var stateRoot: String { root + ".coffer" }

    static let runtime = Repository.executable("coffer-runtime")

    init(args: [String], env: [String] = [], annotations: [String: String] = [:]) throws {
        directory = try TemporaryDirectory("coffer-oci")
        let rootfs = directory.file("bundle/rootfs")
        try sh("mkdir -p \(rootfs)/bin \(rootfs)/tmp && cp /bin/busybox \(rootfs)/bin/busybox")
        for applet in ["sh", "echo", "cat", "sleep", "env", "ls", "true", "kill", "trap"] {
            try FileManager.default.createSymbolicLink(atPath: "\(rootfs)/bin/\(applet)", withDestinationPath: "busybox")
        }
        try sh("runc spec --bundle \(bundle)")
        var config = try JSONParser.parse(String(contentsOfFile: "\(bundle)/config.json", encoding: .utf8))
        let process = config["process"]!
            .setting("terminal", .bool(false))
            .setting("args", .strings(args))
            .setting("env", .strings(["PATH=/bin", "HOME=/"] + env))
        // Writable rootfs: the detached exec test leaves a file in /tmp.
        config = config.setting("process", process).updating("root") { $0!.setting("readonly", .bool(false)) }
        if !annotations.isEmpty {
            config = config.setting("annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        try config.pretty.write(toFile: "\(bundle)/config.json", atomically: true, encoding: .utf8)
    }

    /// `coffer-runtime --root ROOT ARGS...` (or runc), output captured.
    func runtime(_ arguments: [String], runc: Bool = false, global: [String] = []) throws -> CommandResult {
        try run(runc ? "runc" : Self.runtime, global + ["--root", root] + arguments, directory: bundle)
    }

    /// A command with its streams sent to files (for `create`: the container inherits them and
    /// outlives the command, so a pipe would never reach end of file).
    func detached(_ arguments: [String], output name: String) throws -> Int32 {
        let quoted = ([Self.runtime, "--root", root] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try run("/bin/sh", ["-c", "\(quoted) >\(directory.file(name)) 2>&1"], directory: bundle).status
    }

    func read(_ name: String) -> String { (try? String(contentsOfFile: directory.file(name), encoding: .utf8)) ?? "" }

    func status(_ id: String) throws -> String? {
        let result = try runtime(["state", id])
        guard result.status == 0 else { return nil }
        return try JSONParser.parse(result.stdout)["status"]?.stringValue
    }

    /// Polls (with a deadline, not a timing assertion) until `condition` holds.
    func wait(_ what: String, _ condition: () throws -> Bool) throws {
        for _ in 0..<500 {
            if try condition() { return }
            usleep(10_000)
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    /// No runc container and no Coffer state left under this root.
    func isEmpty() throws -> Bool {
        let list = try run("runc", ["--root", root, "list", "-q"])
        let state = (try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? []
        return list.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && state.isEmpty
    }

    deinit {
        // Whatever a failing test left behind goes with it.
        if let ids = try? run("runc", ["--root", root, "list", "-q"]).stdout.split(separator: "\n") {
            for id in ids { _ = try? run("runc", ["--root", root, "delete", "--force", String(id)]) }
        }
    }
}

/// The reference PAL (Tests/Fixtures/reference-pal) compiled with gcc, once per test run, in
/// each variant the tests need, into .build/reference-pal (kept, like other build products).
enum ReferencePAL {
    static let source = Repository.root() + "/Tests/Fixtures/reference-pal/reference-pal.c"
    static let directory = Repository.root() + "/.build/reference-pal"
    nonisolated(unsafe) private static var built: [String: String] = [:]
    private static let lock = NSLock()

    /// "v3", "v2", "v1", "missing-exec", "version-9", "init-fails", "occlum-shaped".
    static func path(_ variant: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let path = built[variant] { return path }
        let defines: [String: [String]] = [
            "v3": ["-DPAL_VERSION=3"], "v2": ["-DPAL_VERSION=2"], "v1": ["-DPAL_VERSION=1"],
            "missing-exec": ["-DPAL_VERSION=2", "-DOMIT_PAL_EXEC"], "version-9": ["-DPAL_VERSION=9"],
            "init-fails": ["-DPAL_VERSION=3", "-DINIT_FAILS"], "occlum-shaped": ["-DPAL_VERSION=2", "-DOCCLUM_SHAPED"],
        ]
        guard let flags = defines[variant] else { throw TestFailure("unknown PAL variant \(variant)") }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let output = "\(directory)/libreference-pal-\(variant).so"
        // Compiled beside, then renamed: another test process may be loading the previous one.
        let result = try run("gcc", ["-shared", "-fPIC", "-Wall", "-Werror"] + flags + ["-o", output + ".new", source, "-lpthread"])
        guard result.status == 0 else { throw TestFailure("gcc failed: \(result.stderr)") }
        guard rename(output + ".new", output) == 0 else { throw TestFailure("cannot rename \(output).new") }
        built[variant] = output
        return output
    }
}

/// A unique container id per call.
func containerID(_ label: String) -> String { "\(label)-\(getpid())-\(UUID().uuidString.prefix(8))" }
