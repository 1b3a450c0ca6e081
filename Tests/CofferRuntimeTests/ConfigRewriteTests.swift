import Testing
@testable import CofferOCIRuntime
import CofferJSON

/// The pure parts: command-line routing, rune's enclave settings, the rewritten config.
@Suite struct ConfigRewriteTests {
    @Test func globalFlagsAreSplitFromTheCommand() {
        let line = RuntimeCommandLine(["--root=/r", "--log", "/l", "--enclave-runtime", "/p.so", "--debug", "create", "--bundle", "/b", "id"])
        #expect(line.root == "/r" && line.globalValues["log"] == "/l")
        #expect(line.enclaveRuntime == "/p.so")
        #expect(line.command == "create")
        #expect(line.globalArguments == ["--root=/r", "--log", "/l", "--debug"])
        #expect(line.runcArguments == ["--root=/r", "--log", "/l", "--debug", "create", "--bundle", "/b", "id"])
        let options = CommandOptions(command: "create", line.commandArguments)
        #expect(options.value("bundle", "b") == "/b" && options.containerID == "id")
        #expect(RuntimeCommandLine(["-root", "/x", "state", "a"]).root == "/x")
        #expect(RuntimeCommandLine(["--version"]).command == nil)
    }

    @Test func execOptionsStopAtTheContainerId() {
        let options = CommandOptions(command: "exec", ["-e", "A=1", "--detach", "--env=B=2", "id", "sh", "-c", "x", "--env", "C"])
        #expect(options.values("env", "e") == ["A=1", "B=2"])
        #expect(options.isSet("detach", "d") && !options.isSet("tty", "t"))
        #expect(options.operands == ["id", "sh", "-c", "x", "--env", "C"])
    }

    static let config = """
        {"ociVersion":"1.0.2","process":{"terminal":false,"args":["app","--x"],
         "env":["PATH=/bin","ENCLAVE_TYPE=intelSgx","ENCLAVE_RUNTIME_PATH=/opt/pal.so","ENCLAVE_RUNTIME_ARGS=inst,fast","ENCLAVE_RUNTIME_LOGLEVEL=loud"],"cwd":"/"},
         "root":{"path":"rootfs","readonly":true},"mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
         "annotations":{"enclave.runtime.path":"/ignored.so"},
         "linux":{"resources":{"memory":{"limit":9223372036854775807}},"namespaces":[{"type":"pid"}]}}
        """

    @Test func environmentComesFirstThenAnnotations() throws {
        let settings = try #require(try EnclaveSettings.read(config: JSONParser.parse(Self.config)))
        #expect(settings.runtimePath == "/opt/pal.so")
        #expect(settings.runtimeArgs == "inst fast")
        #expect(settings.logLevel == "info")  // "loud" is not one of rune's levels
        #expect(settings.environment == ["PATH=/bin"])
        let annotated = try JSONParser.parse(#"{"process":{"env":[]},"annotations":{"enclave.type":"intelSgx","enclave.runtime.path":"/a.so","enclave.runtime.loglevel":"debug"}}"#)
        let fromAnnotations = try #require(try EnclaveSettings.read(config: annotated))
        #expect(fromAnnotations.runtimePath == "/a.so" && fromAnnotations.logLevel == "debug")
        #expect(try EnclaveSettings.read(config: JSONParser.parse(#"{"process":{"env":["A=1"]}}"#)) == nil)
    }

    @Test func unusableSettingsAreRefused() throws {
        #expect(throws: OCIError.self) {
            try EnclaveSettings.read(config: JSONParser.parse(#"{"process":{"env":["ENCLAVE_TYPE=awsNitroEnclaves","ENCLAVE_RUNTIME_PATH=/p"]}}"#))
        }
        #expect(throws: OCIError.self) {
            try EnclaveSettings.read(config: JSONParser.parse(#"{"process":{"env":["ENCLAVE_TYPE=intelSgx"]}}"#))
        }
        #expect(throws: OCIError.self) {
            try EnclaveSettings.read(config: JSONParser.parse(#"{"process":{"env":["ENCLAVE_TYPE=intelSgx","ENCLAVE_RUNTIME_PATH=rel.so"]}}"#))
        }
    }

    @Test func rewrittenConfigRunsThePALHost() throws {
        let original = try JSONParser.parse(Self.config)
        let settings = try #require(try EnclaveSettings.read(config: original))
        let files = PALHostFiles(
            host: "/usr/bin/coffer-pal-host", loaderName: "ld-linux-x86-64.so.2", palName: "pal.so",
            libraries: [.init(name: "libc.so.6", source: "/lib/libc.so.6"), .init(name: "ld-linux-x86-64.so.2", source: "/lib/ld.so"),
                        .init(name: "pal.so", source: "/opt/pal.so")])
        let bundle = EnclaveBundle(
            settings: settings, bundle: "/b", palDirectory: "/s/pal", controlDirectory: "/s/control", files: files,
            devices: [.init(path: "/dev/sgx_enclave", major: 10, minor: 125, mode: 0o20666)], aesmdDirectory: "/var/run/aesmd",
            waitForStart: true)
        let config = try bundle.rewrite(original)
        #expect(config["process"]?["args"]?.stringArray == [
            "/dev/coffer-pal/lib/ld-linux-x86-64.so.2", "--library-path", "/dev/coffer-pal/lib", "/dev/coffer-pal/coffer-pal-host",
            "--pal", "/dev/coffer-pal/lib/pal.so", "--control", "/dev/coffer-pal/control", "--args", "inst fast",
            "--log-level", "info", "--wait-start", "--", "app", "--x",
        ])
        #expect(config["process"]?["env"]?.stringArray == ["PATH=/bin"])
        #expect(config["root"]?["path"]?.stringValue == "/b/rootfs")
        #expect(config["root"]?["readonly"] == .bool(true))
        let mounts = config["mounts"]?.arrayValue ?? []
        #expect(mounts.compactMap { $0["destination"]?.stringValue } == [
            "/proc", "/dev/coffer-pal", "/dev/coffer-pal/coffer-pal-host", "/dev/coffer-pal/lib/libc.so.6",
            "/dev/coffer-pal/lib/ld-linux-x86-64.so.2", "/dev/coffer-pal/lib/pal.so", "/dev/coffer-pal/control", "/var/run/aesmd",
        ])
        #expect(mounts[1]["options"]?.stringArray == ["bind", "ro", "nosuid", "nodev"])
        #expect(mounts[6]["options"]?.stringArray == ["bind", "rw", "nosuid", "nodev", "noexec"])
        let device = config["linux"]?["devices"]?.arrayValue?.first
        #expect(device?["major"] == .number("10") && device?["minor"] == .number("125") && device?["fileMode"] == .number("438"))
        #expect(config["linux"]?["resources"]?["devices"]?.arrayValue?.first?["access"]?.stringValue == "rwm")
        // Everything else is as the user wrote it, numbers included.
        #expect(config["linux"]?["resources"]?["memory"]?["limit"] == .number("9223372036854775807"))
        #expect(config["annotations"] == original["annotations"])
    }

    @Test func lddOutputNamesLoaderAndLibraries() throws {
        let output = """
            \tlinux-vdso.so.1 (0x00007ffc)
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1)
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f2)
            """
        let parsed = try PALHostFiles.parse(ldd: output, of: "x")
        #expect(parsed.loader == "/lib64/ld-linux-x86-64.so.2")
        #expect(parsed.libraries.map(\.name) == ["libc.so.6"])
        #expect(throws: OCIError.self) { try PALHostFiles.parse(ldd: "\tlibsgx_urts.so => not found\n", of: "pal.so") }
    }

    @Test func containerIdsCannotNamePaths() {
        #expect(CofferRuntime.isValid(id: "web-1.a_b+c"))
        for bad in ["", ".", "..", "a/b", "../x", "a b"] { #expect(!CofferRuntime.isValid(id: bad)) }
    }

    @Test func malformedJSONIsAnErrorNotATrap() {
        for text in ["{", "[1,]", "{\"a\" 1}", "\"\\ud800\"", "01", "1.", "\"\u{01}\"", "[" + String(repeating: "[", count: 300)] {
            #expect(throws: JSONError.self) { try JSONParser.parse(text) }
        }
    }
}
