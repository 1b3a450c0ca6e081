import Foundation
import Testing
import CofferTestSupport

/// `coffer build` and the image commands, driven through the real executable, real mkfs.erofs and a
/// real store on disk.
@Suite struct BuildCLITests {
    let coffer = Repository.executable("coffer")

    func coffer(_ home: String, _ arguments: [String], faketime: String? = nil, directory: String? = nil) throws -> CommandResult {
        if let faketime {
            return try run("faketime", [faketime, coffer] + arguments, environment: ["COFFER_HOME": home, "FAKETIME_DONT_FAKE_MONOTONIC": "1"], directory: directory)
        }
        return try run(coffer, arguments, environment: ["COFFER_HOME": home], directory: directory)
    }

    struct BuildOutput: Decodable { var id: String; var rootHash: String; var tags: [String] }

    func build(_ home: String, _ arguments: [String], faketime: String? = nil, directory: String? = nil) throws -> BuildOutput {
        let result = try coffer(home, ["build", "--json"] + arguments, faketime: faketime, directory: directory)
        guard result.status == 0 else { throw TestFailure("coffer build failed: \(result.stderr)") }
        return try JSONDecoder().decode(BuildOutput.self, from: Data(result.stdout.utf8))
    }

    /// Inputs with the same content made in a different order, with different timestamps.
    func makeInputs(in dir: TemporaryDirectory, mtime: String, reversed: Bool) throws {
        var names = ["alpha", "beta", "gamma", "delta"]
        if reversed { names.reverse() }
        for name in names { try dir.write("app/data/\(name).txt", "content of \(name)\n") }
        try dir.write("app/run.sh", "#!/bin/sh\necho hi\n", mode: 0o755)
        try sh("ln -sf data/alpha.txt app/link && touch -h -d '\(mtime)' app app/* app/data/*", directory: dir.path)
    }

    @Test func sameInputsGiveTheSameImageOnAnotherDayInAnotherDirectory() throws {
        let first = try TemporaryDirectory("first"), second = try TemporaryDirectory("second")
        try makeInputs(in: first, mtime: "2001-02-03 04:05:06", reversed: false)
        try makeInputs(in: second, mtime: "2024-12-25 10:00:00", reversed: true)
        let homeA = try TemporaryDirectory("home"), homeB = try TemporaryDirectory("home")
        let a = try build(homeA.path, ["--file", "app:/app", "--entrypoint", "/app/run.sh"], directory: first.path)
        let b = try build(homeB.path, ["--file", "app:/app", "--entrypoint", "/app/run.sh"],
            faketime: "2031-07-01 12:00:00", directory: second.path)
        #expect(a.id == b.id)
        #expect(a.rootHash == b.rootHash)
        // A changed byte of content changes both.
        try second.write("app/data/beta.txt", "content of beta!\n")
        let c = try build(homeB.path, ["--file", "app:/app", "--entrypoint", "/app/run.sh"], directory: second.path)
        #expect(c.id != a.id)
        #expect(c.rootHash != a.rootHash)
    }

    @Test func missingInputIsOneLineNamingItAndLeavesNoPartialImage() throws {
        let home = try TemporaryDirectory("home")
        let result = try coffer(home.path, ["build", "--file", "/nonexistent/input.txt", "-t", "x"])
        #expect(result.status != 0)
        #expect(result.stderr == "coffer: --file /nonexistent/input.txt: no such file or directory\n")
        try expectEmptyStore(home.path)
    }

    @Test func fullDiskFailsCleanlyAndLeavesTheStoreIntact() throws {
        let home = try TemporaryDirectory("home")
        let inputs = try TemporaryDirectory("inputs")
        try inputs.write("small.txt", "small\n")
        // An image that fits, then a mount too small for the next build.
        try sh("mount -t tmpfs -o size=2m coffer-test \(home.path)")
        defer { _ = try? sh("umount \(home.path)") }
        let small = try build(home.path, ["--file", "\(inputs.path)/small.txt:/small.txt", "-t", "small"])
        try sh("head -c 3000000 /dev/urandom > big.bin", directory: inputs.path)
        let result = try coffer(home.path, ["build", "--file", "\(inputs.path)/big.bin:/big.bin", "-t", "big"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("No space left on device"), "stderr: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        let images = try FileManager.default.contentsOfDirectory(atPath: "\(home.path)/images")
        #expect(images == [String(small.id.dropFirst(7))])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(home.path)/tmp").isEmpty)
        let verify = try coffer(home.path, ["verify", "small"])
        #expect(verify.status != 0 && verify.stderr.contains("not signed"), "the earlier image is still readable")
        let list = try coffer(home.path, ["images", "--format", "json"])
        #expect(list.stdout.contains(small.id) && !list.stdout.contains("\"big\""))
    }

    @Test func signedImageVerifiesAndTamperingIsCaught() throws {
        let home = try TemporaryDirectory("home"), other = try TemporaryDirectory("other")
        let inputs = try TemporaryDirectory("inputs")
        try inputs.write("config.txt", String(repeating: "x", count: 20_000))
        #expect(try coffer(home.path, ["key", "generate"]).status == 0)
        #expect(try coffer(other.path, ["key", "generate", "--type", "p256"]).status == 0)
        let built = try build(home.path, ["--file", "\(inputs.path)/config.txt:/etc/config.txt", "-t", "signed:v1"])
        let ok = try coffer(home.path, ["verify", "signed:v1"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("(trusted key)"))

        let wrongKey = try coffer(home.path, ["verify", "signed:v1", "--key", "\(other.path)/keys/builder.pub"])
        #expect(wrongKey.status != 0)
        #expect(wrongKey.stderr.contains("not by the trusted key"))

        let dir = "\(home.path)/images/\(built.id.dropFirst(7))"
        let rootfs = "\(dir)/rootfs.erofs"
        try sh("cp \(rootfs) \(rootfs).orig && printf 'Z' | dd of=\(rootfs) bs=1 seek=8192 conv=notrunc 2>/dev/null")
        let tampered = try coffer(home.path, ["verify", "signed:v1"])
        #expect(tampered.status != 0)
        #expect(tampered.stderr.contains("rootfs.erofs of") && tampered.stderr.contains("was modified"))
        #expect(try coffer(home.path, ["verify", "--signature-only", "signed:v1"]).status == 0)
        try sh("mv \(rootfs).orig \(rootfs)")

        try sh("sed -i 's#/etc/config.txt#/etc/evil.txt#' \(dir)/manifest.json")
        let edited = try coffer(home.path, ["verify", "signed:v1"])
        #expect(edited.status != 0)
        #expect(edited.stderr.contains("manifest of \(built.id) was modified"))
    }

    @Test func tagsAndRemoval() throws {
        let home = try TemporaryDirectory("home")
        let inputs = try TemporaryDirectory("inputs")
        try inputs.write("a.txt", "a\n")
        let built = try build(home.path, ["--file", "\(inputs.path)/a.txt:/a.txt", "-t", "web:1", "-t", "web:latest"])
        #expect(built.tags == ["web:1", "web:latest"])
        let table = try coffer(home.path, ["images"]).stdout
        #expect(table.contains("web          1 ") || table.contains("web   "))
        #expect(try coffer(home.path, ["inspect", "web"]).stdout.contains(built.id))
        #expect(try coffer(home.path, ["inspect", String(built.id.dropFirst(7).prefix(12))]).status == 0)

        let untag = try coffer(home.path, ["rmi", "web:1"])
        #expect(untag.stdout == "Untagged: web:1\n")
        #expect(FileManager.default.fileExists(atPath: "\(home.path)/images/\(built.id.dropFirst(7))"))
        let delete = try coffer(home.path, ["rmi", "web"])
        #expect(delete.stdout == "Untagged: web:latest\nDeleted: \(built.id)\n")
        try expectEmptyStore(home.path)
        let missing = try coffer(home.path, ["inspect", "web"])
        #expect(missing.status != 0 && missing.stderr == "coffer: no image web:latest\n")
    }

    @Test func progressOnlyOnATerminal() throws {
        let home = try TemporaryDirectory("home")
        let inputs = try TemporaryDirectory("inputs")
        try sh("head -c 2000000 /dev/urandom > blob.bin", directory: inputs.path)
        let quiet = try coffer(home.path, ["build", "--file", "\(inputs.path)/blob.bin:/blob.bin"])
        #expect(quiet.status == 0)
        #expect(!quiet.stderr.contains("\r"))
        #expect(!quiet.stderr.contains("files,"))
        // `script` gives the build a pseudo-terminal, as an interactive shell would.
        let tty = try run("script", ["-qec", "\(coffer) build --file \(inputs.path)/blob.bin:/b2.bin", "/dev/null"],
            environment: ["COFFER_HOME": home.path])
        #expect(tty.status == 0)
        #expect(tty.stdout.contains("files,") && tty.stdout.contains("MiB"), "pty output: \(tty.stdout)")
    }

    func expectEmptyStore(_ home: String) throws {
        let images = (try? FileManager.default.contentsOfDirectory(atPath: "\(home)/images")) ?? []
        let temporary = (try? FileManager.default.contentsOfDirectory(atPath: "\(home)/tmp")) ?? []
        #expect(images.isEmpty, "no partial image in images/")
        #expect(temporary.isEmpty, "no leftover build directory in tmp/")
    }
}
