import CofferTestSupport
import Foundation
import Testing

/// The README's "Example" runs command for command: every line of its `sh` block, in order, through
/// /bin/sh in a temporary directory with its own store (`COFFER_HOME`), `coffer` on PATH being the
/// built executable. Where a line's comment shows `→ TEXT`, the line must print TEXT (on either stream). Lines that
/// cannot run here are listed by name below with the reason, and must say so in the README.
@Suite(.serialized) struct ReadmeExampleTests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")
    let runs = RunCLITests()

    /// Example lines not run here, by their first word, and why.
    static let notRunHere = ["docker": "needs Docker's daemon, which this machine does not run"]
    /// What the README says of such a line.
    static let notRunMarker = "not run by the test"

    struct Example {
        var commands: [String]
        var cofferfile: String
    }

    /// The code blocks of the README's "## Example" section: the `sh` block's lines and the
    /// `yaml` block (the Cofferfile).
    static func example() throws -> Example {
        let blocks = try codeBlocks(section: "Example")
        guard let commands = blocks["sh"], let cofferfile = blocks["yaml"] else {
            throw TestFailure("the Example has no ```sh or no ```yaml block: \(blocks.keys.sorted())")
        }
        return Example(commands: commands.filter { !$0.isEmpty }, cofferfile: cofferfile.joined(separator: "\n") + "\n")
    }

    /// The fenced code blocks of the README section `## NAME`, by language, as lines.
    static func codeBlocks(section name: String) throws -> [String: [String]] {
        let readme = try String(contentsOfFile: "\(Repository.root())/README.md", encoding: .utf8)
        guard let start = readme.range(of: "\n## \(name)\n") else { throw TestFailure("README.md has no ## \(name) section") }
        let section = readme[start.upperBound...].components(separatedBy: "\n## ").first ?? ""
        var blocks: [String: [String]] = [:]
        var open: String?
        for line in section.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") {
                if open == nil {
                    open = String(line.dropFirst(3))
                    guard blocks[open!] == nil else { throw TestFailure("two ```\(open!) blocks in the Example") }
                    blocks[open!] = []
                } else {
                    open = nil
                }
            } else if let kind = open {
                blocks[kind, default: []].append(line)
            }
        }
        return blocks
    }

    /// What a line's comment says it prints: the text after `→`, if any.
    static func shownOutput(_ line: String) -> String? {
        guard let arrow = line.range(of: "→ ", options: .backwards) else { return nil }
        return line[arrow.upperBound...].trimmingCharacters(in: .whitespaces)
    }

    /// The block's shape: the set-up commands stay, every skipped line says so in the README and
    /// every line that says so is skipped by name here.
    @Test func theExampleIsWhatThisTestRuns() throws {
        let example = try Self.example()
        #expect(example.commands.count >= 10, "\(example.commands)")
        for line in example.commands {
            let first = String(line.prefix { $0 != " " })
            #expect((Self.notRunHere[first] != nil) == line.contains(Self.notRunMarker), "\(line)")
        }
        for name in Self.notRunHere.keys {
            #expect(example.commands.contains { $0.hasPrefix(name + " ") }, "\(name) is listed as not run but is not in the Example")
        }
        let readme = try String(contentsOfFile: "\(Repository.root())/README.md", encoding: .utf8)
        #expect(readme.contains("```sh\nmake demo "), "the set-up commands changed")
        #expect(readme.contains("\nmake test   # the whole test suite\n"), "the set-up commands changed")
    }

    @Test func theExampleRunsAsWritten() throws {
        let example = try Self.example()
        let home = try runs.storeWithKernel()
        let work = try TemporaryDirectory("coffer-readme")
        // What the Example starts from: ./server, debian.tar (what `docker export` would have
        // written), the Cofferfile, and a real TDX quote with its collateral.
        _ = try compile(Program.httpServer, to: "server", flags: [], in: work)
        let rootfs = try TemporaryDirectory("coffer-readme-rootfs")
        try FileManager.default.moveItem(atPath: try busyboxRoot(in: rootfs), toPath: work.file("debian.tar"))
        _ = try work.write("Cofferfile", example.cofferfile)
        try FileManager.default.copyItem(atPath: try Vectors.path("tdx-dcap/quote.bin"), toPath: work.file("quote.bin"))
        try FileManager.default.copyItem(atPath: try Vectors.path("tdx-dcap/collateral.json"), toPath: work.file("collateral.json"))
        // `coffer` is the built executable.
        try FileManager.default.createDirectory(atPath: work.file("bin"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work.file("bin/coffer"), withDestinationPath: coffer)
        let path = work.file("bin") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        // The one change to a line: host port 8443 becomes a free one, so that another checkout's
        // tests on this machine cannot collide with this one.
        let port = try freePort()
        defer { _ = try? coffer(home.path, ["rm", "-f", "auth"]) }

        for line in example.commands {
            let first = String(line.prefix { $0 != " " })
            if Self.notRunHere[first] != nil { continue }
            let command = line.replacingOccurrences(of: "-p 8443:8443", with: "-p \(port):8443")
                .replacingOccurrences(of: "127.0.0.1:8443", with: "127.0.0.1:\(port)")
            let result = try run("/bin/sh", ["-c", command], environment: ["COFFER_HOME": home.path, "PATH": path], directory: work.path)
            #expect(result.status == 0, "\(line)\n\(result.stdout)\(result.stderr)")
            if let shown = Self.shownOutput(line) {
                // What a terminal shows: both streams (`build` prints the id on stdout, the rest on stderr).
                #expect((result.stdout + result.stderr).contains(shown), "\(line) printed:\n\(result.stdout)\(result.stderr)")
            }
            guard result.status == 0 else { return }
        }
        #expect(try coffer(home.path, ["ps", "-a"]).stdout.split(separator: "\n").count == 1)
        #expect(try runs.processes(using: home.path).isEmpty)
    }

    /// Lines of the "Confidential workloads" block not run here, by their first word, and why.
    static let confidentialNotRunHere = ["scripts/make-python-rootfs": "debootstrap downloads Debian; the test builds python.tar from the host's Python"]

    /// The "Confidential workloads" block runs as written, in one bash (its lines share variables
    /// and the broker started in the background), against a real broker on loopback: the md5 tool
    /// prints the digest of its secret input, the Python application's second run sees the first
    /// run's line on its encrypted volume, the volume file holds no plaintext, and a modified image
    /// is denied. Port 8444 becomes a free one.
    @Test func theConfidentialWorkloadsRunAsWritten() throws {
        let lines = try #require(Self.codeBlocks(section: "Confidential workloads")["sh"]).filter { !$0.isEmpty }
        for line in lines {
            let first = String(line.prefix { $0 != " " })
            #expect((Self.confidentialNotRunHere[first] != nil) == line.contains(Self.notRunMarker), "\(line)")
        }
        let home = try runs.storeWithKernel()
        let work = try TemporaryDirectory("coffer-readme-confidential")
        try FileManager.default.createSymbolicLink(atPath: work.file("examples"), withDestinationPath: "\(Repository.root())/examples")
        try hostPythonRoot(to: work.file("python.tar"), in: work)
        try FileManager.default.createDirectory(atPath: work.file("bin"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work.file("bin/coffer"), withDestinationPath: coffer)
        let path = work.file("bin") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let port = try freePort()
        // One shell for the block: each line between markers, so that what it printed can be told
        // apart, and the first failing line ends the script.
        // The broker the block starts in the background ends with the script, whatever happens.
        // Descriptors this test process leaves open are closed first: the broker would inherit
        // them and keep Foundation's Process waiting for the script after it ended.
        var script = "for fd in /proc/$$/fd/*; do n=${fd##*/}; [ \"$n\" -gt 2 ] 2>/dev/null && eval \"exec $n>&-\"; done\n"
        script += "trap 'kill $(jobs -p) 2>/dev/null' EXIT\n"
        var run: [(index: Int, line: String)] = []
        for (index, line) in lines.enumerated() {
            let first = String(line.prefix { $0 != " " })
            if Self.confidentialNotRunHere[first] != nil { continue }
            let command = line.replacingOccurrences(of: "8444", with: "\(port)")
            script += "echo '@@@ \(index)'\n{ \(command)\n} 2>&1 || { echo '@@@ failed \(index)'; exit 1; }\n"
            run.append((index, line))
        }
        let result = try CofferTestSupport.run("/bin/bash", ["-c", script], environment: ["COFFER_HOME": home.path, "PATH": path], directory: work.path)
        let output = result.stdout + result.stderr
        #expect(result.status == 0, "\(output)\n---- broker:\n\((try? String(contentsOfFile: work.file("kbs.log"), encoding: .utf8)) ?? "")")
        var printed: [Int: String] = [:]
        var current = -1
        for segment in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if segment.hasPrefix("@@@ "), let index = Int(segment.dropFirst(4)) { current = index; continue }
            if current >= 0 { printed[current, default: ""] += segment + "\n" }
        }
        for (index, line) in run {
            if let shown = Self.shownOutput(line) {
                #expect(printed[index]?.contains(shown) == true, "\(line) printed:\n\(printed[index] ?? "nothing")")
            }
        }
        #expect(printed[run.first { $0.line.hasPrefix("coffer run --rm -m 512M") && $0.line.hasSuffix("→ run 2: authorised") }?.index ?? -1]?
            .contains("run 1: authorised") == true, "the second run does not see the first run's line")
        #expect(try runs.processes(using: home.path).isEmpty)
    }

    /// A `docker export`-style tarball of the host's Python 3 (the interpreter, its standard library
    /// without tests and tools, every shared library it and its extension modules load) on the
    /// busybox root: what debootstrap would give the README's second scenario, without a download.
    func hostPythonRoot(to tarball: String, in work: TemporaryDirectory) throws {
        _ = try busyboxRoot(in: work, extra: """
            set -e
            version=$(readlink /usr/bin/python3)
            mkdir -p usr/bin usr/lib
            cp /usr/bin/$version usr/bin/ && ln -s $version usr/bin/python3
            tar -C /usr/lib -cf - --exclude=__pycache__ --exclude=test --exclude=site-packages --exclude=dist-packages \
              --exclude=idlelib --exclude=tkinter --exclude=ensurepip --exclude=lib2to3 --exclude=turtledemo $version | tar -C usr/lib -xf -
            for f in /usr/bin/$version /usr/lib/$version/lib-dynload/*.so; do ldd "$f"; done \
              | awk '$2 == "=>" && $3 ~ /^\\// {print $3} $1 ~ /^\\// {print $1}' | sort -u | while read lib; do
                mkdir -p ".$(dirname "$lib")" && cp -L "$lib" ".$lib"
              done
            """)
        try FileManager.default.moveItem(atPath: work.file("root.tar"), toPath: tarball)
    }
}
