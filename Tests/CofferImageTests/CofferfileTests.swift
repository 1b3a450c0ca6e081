import CofferImage
import CofferWire
import Foundation
import Testing

/// Cofferfiles written as YAML and as JSON parse to the same spec, paths anchored at the
/// Cofferfile's directory; a spec written back out parses to itself; mistakes are named.
@Suite("Cofferfile parsing")
struct CofferfileTests {
    private let yaml = """
        # A service image built from a docker export plus our own binary.
        name: auth/service:1.4.2
        from:
          rootfs: ./base/rootfs.tar.gz
        binaries:
          - build/authd
          - {src: /opt/tools/probe, dest: /usr/local/bin/probe}
        files:
          - conf/authd.toml:/etc/authd/authd.toml
          - src: static
            dest: /srv/static
          - "odd:name.txt"
        entrypoint: [/usr/bin/authd]
        cmd: ["--port", 8443]
        env:
          RUST_LOG: info
          EMPTY: ""
        workdir: /srv
        user: "1000:1000"
        memory: 512M
        exec:
          - /usr/bin/status
          - [/bin/cat, /proc/meminfo]
        """

    private func expected(_ dir: String) -> CofferfileSpec {
        var spec = CofferfileSpec()
        spec.name = "auth/service"
        spec.tag = "1.4.2"
        spec.base = .rootfs(dir + "/base/rootfs.tar.gz")
        spec.binaries = [.init(source: dir + "/build/authd"), .init(source: "/opt/tools/probe", destination: "/usr/local/bin/probe")]
        spec.files = [.init(source: dir + "/conf/authd.toml", destination: "/etc/authd/authd.toml"),
                      .init(source: dir + "/static", destination: "/srv/static"),
                      .init(source: dir + "/odd:name.txt")]
        spec.entrypoint = ["/usr/bin/authd"]
        spec.cmd = ["--port", "8443"]
        spec.env = ["RUST_LOG=info", "EMPTY="]
        spec.workdir = "/srv"
        spec.user = "1000:1000"
        spec.memoryBytes = 512 << 20
        spec.exec = .exact([.init(argv: ["/usr/bin/status"]), .init(argv: ["/bin/cat", "/proc/meminfo"])])
        return spec
    }

    @Test("a YAML Cofferfile, paths relative to its directory")
    func parsesYAML() throws {
        let scratch = try ArchiveScratch()
        try scratch.write("project/Cofferfile", yaml)
        let spec = try Cofferfile.load(path: scratch.file("project/Cofferfile"))
        #expect(spec == expected(scratch.file("project")))
        #expect(spec.reference == "auth/service:1.4.2")
    }

    @Test("the same Cofferfile written as JSON")
    func parsesJSON() throws {
        let scratch = try ArchiveScratch()
        try scratch.write("project/Cofferfile.json", """
            {"name": "auth/service:1.4.2", "from": {"rootfs": "./base/rootfs.tar.gz"},
             "binaries": ["build/authd", {"src": "/opt/tools/probe", "dest": "/usr/local/bin/probe"}],
             "files": ["conf/authd.toml:/etc/authd/authd.toml", {"src": "static", "dest": "/srv/static"}, "odd:name.txt"],
             "entrypoint": ["/usr/bin/authd"], "cmd": ["--port", "8443"],
             "env": {"RUST_LOG": "info", "EMPTY": ""}, "workdir": "/srv", "user": "1000:1000",
             "memory": "512M", "exec": ["/usr/bin/status", ["/bin/cat", "/proc/meminfo"]]}
            """)
        #expect(try Cofferfile.load(path: scratch.file("project/Cofferfile.json")) == expected(scratch.file("project")))
    }

    @Test("a spec written out parses back to itself from another directory")
    func roundTrip() throws {
        let scratch = try ArchiveScratch()
        try scratch.write("project/Cofferfile", yaml)
        let spec = try Cofferfile.load(path: scratch.file("project/Cofferfile"))
        try scratch.write("elsewhere/deeper/Cofferfile", try spec.yaml())
        #expect(try Cofferfile.load(path: scratch.file("elsewhere/deeper/Cofferfile")) == spec)

        var other = CofferfileSpec()
        other.base = .oci("/images/layout")
        other.env = ["A=b=c"]
        other.exec = .exact([.init(argv: ["/usr/bin/status"], trailingArguments: true, env: ["TERM"], user: "1000:1000", cwd: "/")])
        other.memoryBytes = 3 << 30
        other.cmd = ["", "yes", "null", "~"]
        #expect(try Cofferfile.parse(try other.yaml(), directory: "/x", path: "out") == other)
    }

    @Test("environment as a KEY=VALUE list; exec allow; defaults")
    func listEnvAndDefaults() throws {
        let spec = try Cofferfile.parse("env: [A=1, B=two=2]\nexec: allow\n", directory: "/d", path: "Cofferfile")
        #expect(spec.env == ["A=1", "B=two=2"])
        #expect(spec.exec == .allow)
        let empty = try Cofferfile.parse("{}", directory: "/d", path: "Cofferfile")
        #expect(empty.exec == .deny && empty.base == nil && empty.files.isEmpty && empty.memoryBytes == nil)
    }

    @Test("unknown keys are errors naming the key and line", arguments: [
        ("name: a\nentrypont: [/bin/a]\n", "unknown key 'entrypont' in top level", 2),
        ("files:\n  - {src: a, dst: /b}\n", "unknown key 'dst' in an entry of files", 2),
        ("from:\n  docker: x\n", "unknown key 'docker' in from", 2),
    ])
    func unknownKeys(text: String, message: String, line: Int) throws {
        let error = #expect(throws: CofferfileError.self) { try Cofferfile.parse(text, directory: "/d", path: "Cofferfile") }
        #expect(error?.message.hasPrefix(message) == true, "\(String(describing: error))")
        #expect(error?.line == line)
        #expect(error?.description.hasPrefix("Cofferfile Cofferfile:\(line): ") == true)
    }

    @Test("values of the wrong shape are named", arguments: [
        ("from: {rootfs: a.tar, oci: b}", "from must name exactly one of rootfs or oci"),
        ("memory: 512", "memory '512' needs a number and a unit"),
        ("exec: maybe", "exec 'maybe' must be deny, allow, or a list of exact entries"),
        ("exec: [status]", "an exec entry's argv must start with an absolute program path"),
        ("exec: [{argv: [/bin/x], shell: yes}]", "unknown key 'shell' in an exec entry"),
        ("exec: [{argv: [/bin/x], env: [A=1]}]", "exec env 'A=1' must be a variable name"),
        ("exec: [{argv: [/bin/x], cwd: tmp}]", "an exec entry's cwd 'tmp' must be absolute"),
        ("exec: [{env: [TERM]}]", "an exec entry needs argv"),
        ("workdir: srv", "workdir 'srv' must be an absolute path in the image"),
        ("name: Auth", "name 'Auth' must be lowercase"),
        ("entrypoint: /bin/app", "entrypoint must be a list"),
        ("files: [\"a:relative/dest\", \"b:dest\"]", ""),
        ("user:", "user has no value"),
        ("env: [NOEQUALS]", "env entry 'NOEQUALS' is not KEY=VALUE"),
        ("name: a\nname: b", "key 'name' appears twice"),
        ("- just\n- a list", "the top level must be a mapping"),
        ("name: [unclosed", "not valid YAML"),
    ])
    func wrongShapes(text: String, message: String) throws {
        if message.isEmpty {
            // A colon not followed by '/' is part of the source name, not a destination.
            let spec = try Cofferfile.parse(text, directory: "/d", path: "Cofferfile")
            #expect(spec.files == [.init(source: "/d/a:relative/dest"), .init(source: "/d/b:dest")])
            return
        }
        let error = #expect(throws: CofferfileError.self) { try Cofferfile.parse(text, directory: "/d", path: "Cofferfile") }
        #expect(error?.message.hasPrefix(message) == true, "\(String(describing: error))")
    }

    @Test("a missing Cofferfile")
    func missingFile() throws {
        let error = #expect(throws: CofferfileError.self) { try Cofferfile.load(path: "/nonexistent/Cofferfile") }
        #expect(error?.description == "Cofferfile /nonexistent/Cofferfile: cannot read the file")
    }
}
