import CofferTestSupport
import Foundation
import Testing

/// `coffer run` / `coffer tcb` with `--kbs`, `--kbs-key`, `--kbs-cert`, `--secret` and `-v`
/// (decision 0031). The relay itself is tested in CofferKBSTests/HostRelayTests.
@Suite(.serialized) struct ConfidentialRunCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")
    let kernelHome = VMHomes.coffer

    /// A store with an image (`plain:1`), a volume `data`, a broker key, a file that is not one,
    /// and the paths they are at.
    struct Fixture {
        let home: TemporaryDirectory
        var key: String { home.file("signing.pub") }
        var notPEM: String { home.file("junk.pem") }
    }

    func fixture(kernel: Bool = false) throws -> Fixture {
        let home = try TemporaryDirectory("confidential")
        if kernel {
            let setup = try run(coffer, ["setup", "--home", kernelHome])
            guard setup.status == 0 else { throw TestFailure("coffer setup failed: \(setup.stderr)") }
            try FileManager.default.createSymbolicLink(atPath: home.file("kernel"), withDestinationPath: "\(kernelHome)/kernel")
        }
        _ = try build(home.path, ["--binary", "/bin/true:/true", "-t", "plain:1"])
        let volume = try coffer(home.path, ["volume", "create", "data", "--size", "32M", "--key", "kbs:///default/volume/data"])
        guard volume.status == 0 else { throw TestFailure("coffer volume create failed: \(volume.stderr)") }
        try sh("openssl ecparam -name prime256v1 -genkey -noout | openssl ec -pubout -out \(home.file("signing.pub")) 2>/dev/null")
        _ = try home.write("junk.pem", "not a key\n")
        return Fixture(home: home)
    }

    /// Each refusal names the flag and the value, and no VM is created.
    static let refused: [(arguments: [String], says: String)] = [
        (["--kbs", "https://127.0.0.1:1"], "--kbs https://127.0.0.1:1 needs --kbs-key"),
        (["--kbs-key", "KEY"], "--kbs-key KEY needs --kbs URL"),
        (["--kbs", "ftp://broker", "--kbs-key", "KEY"], "--kbs ftp://broker: give the broker's base URL"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "JUNK"], "--kbs-key JUNK: not a P-256 public key"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "--kbs-cert", "JUNK"], "--kbs-cert JUNK: not a PEM certificate"),
        (["--kbs-cert", "KEY"], "--kbs-cert needs --kbs"),
        (["--secret", "kbs:///default/app/key"], "--secret kbs:///default/app/key needs --kbs and --kbs-key"),
        (["-v", "data:/data"], "-v data:/data needs --kbs and --kbs-key"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "--secret", "kbs://host/a/b/c"], "--secret kbs://host/a/b/c: resource URI"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "--secret", "kbs:///a/b"], "--secret kbs:///a/b: resource URI \"kbs:///a/b\" must have three segments"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "--secret", "kbs:///a/b/c:/etc/passwd"], "--secret kbs:///a/b/c:/etc/passwd: the path /etc/passwd is not under /run/secrets/"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "--secret", "kbs:///a/b/c:/run/secrets/../x"], "--secret kbs:///a/b/c:/run/secrets/../x: launch configuration: secret path"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "--secret", "kbs:///a/b/c", "--secret", "kbs:///d/e/c"], "--secret/-v: launch configuration: two secrets go to /run/secrets/c"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "-v", "data"], "-v data: give NAME:/PATH"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "-v", "missing:/data"], "-v missing:/data: VM configuration: no volume named missing"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "-v", "data:/run/data"], "-v data:/run/data: launch configuration: volume data cannot be mounted at /run/data (inside /run)"),
        (["--kbs", "https://127.0.0.1:1", "--kbs-key", "KEY", "-v", "data:/a", "-v", "data:/b"], "--secret/-v: launch configuration: the volume data is named twice"),
    ]

    @Test(arguments: 0..<refused.count)
    func badConfidentialOptionsAreRefusedNamingFlagAndValue(_ number: Int) throws {
        let fixture = try fixture()
        let (arguments, says) = Self.refused[number]
        let substitute = { (text: String) in text.replacingOccurrences(of: "KEY", with: fixture.key).replacingOccurrences(of: "JUNK", with: fixture.notPEM) }
        let result = try coffer(fixture.home.path, ["run"] + arguments.map(substitute) + ["plain:1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("coffer: " + substitute(says)), "\(arguments): \(result.stderr)")
        let vms = (try? FileManager.default.contentsOfDirectory(atPath: fixture.home.file("vms"))) ?? []
        #expect(vms.filter { !$0.hasPrefix(".") }.isEmpty)
    }

    struct TCB: Decodable {
        struct InitData: Decodable {
            struct Secret: Decodable, Equatable { var resource: String; var path: String }
            struct Volume: Decodable, Equatable { var name: String; var key: String; var path: String; var serial: String; var disk: String }
            var digest: String; var size: Int; var brokerURL: String?; var brokerIdentity: String?
            var secrets: [Secret]; var volumes: [Volume]; var document: String
        }
        var commandLine: String
        var launchMeasurement: String
        var initData: InitData?
    }

    /// `tcb` with the run's options lists the init-data: its digest (SHA-384 of the document it
    /// shows, also on the command line) and what it names. Other options, other measurement.
    @Test func tcbListsTheInitDataARunWithTheSameOptionsMeasures() throws {
        let fixture = try fixture(kernel: true)
        func tcb(_ options: [String]) throws -> TCB {
            let result = try coffer(fixture.home.path, ["tcb", "--format", "json"] + options + ["plain:1"])
            guard result.status == 0 else { throw TestFailure("coffer tcb failed: \(result.stderr)") }
            return try JSONDecoder().decode(TCB.self, from: Data(result.stdout.utf8))
        }
        let plain = try tcb([])
        #expect(plain.initData == nil)
        #expect(!plain.commandLine.contains("coffer.initdata="))
        let options = ["--kbs", "https://broker.example:8443", "--kbs-key", fixture.key, "--secret", "kbs:///default/app/api-key",
                       "--secret", "kbs:///default/app/tls:/run/secrets/tls.pem", "-v", "data:/data"]
        let confidential = try tcb(options)
        let initData = try #require(confidential.initData)
        let document = try fixture.home.write("document.toml", initData.document)
        let sha384 = try sh("sha384sum < \(document)").prefix(96)
        #expect(initData.digest == "sha384:\(sha384)")
        #expect(initData.size == initData.document.utf8.count)
        #expect(confidential.commandLine.hasSuffix(" coffer.initdata=sha384:\(sha384)"))
        #expect(confidential.launchMeasurement != plain.launchMeasurement)
        #expect(initData.brokerURL == "https://broker.example:8443")
        #expect(initData.secrets == [.init(resource: "kbs:///default/app/api-key", path: "/run/secrets/api-key"),
                                     .init(resource: "kbs:///default/app/tls", path: "/run/secrets/tls.pem")])
        #expect(initData.volumes == [.init(name: "data", key: "kbs:///default/volume/data", path: "/data", serial: "coffer-vol0",
                                           disk: fixture.home.file("volumes/data/disk.img"))])
        // The document names resources, never a secret's value; the same options, the same bytes.
        #expect(initData.document.contains("kbs:///default/app/api-key"))
        #expect(try tcb(options).initData?.digest == initData.digest)
        let table = try coffer(fixture.home.path, ["tcb"] + options + ["plain:1"])
        #expect(table.stdout.contains("secret /run/secrets/tls.pem"), "\(table.stdout)")
        #expect(table.stdout.contains("volume data at /data"), "\(table.stdout)")
    }

    /// The whole confidential launch against a real `coffer kbs serve --dev` whose policy admits
    /// the image: the workload reads its secret, placed by the guest after attestation (mode 0400).
    /// A policy that does not admit the image stops the launch with the broker's reason.
    @Test func aSecretFromTheBrokerReachesTheWorkload() throws {
        let fixture = try fixture(kernel: true)
        let home = fixture.home
        let work = try TemporaryDirectory("confidential-run")
        let rootfs = try busyboxRoot(in: work)
        let image = try build(home.path, ["--rootfs", rootfs, "-t", "secrets:1"])
        let broker = try LoopbackBroker(coffer: coffer, home: home.path)
        try broker.admit(image: image.id, resources: "default/app/*")
        try broker.put("default/app/api-key", Array("s3cret-value".utf8))

        let options = broker.runOptions + ["--secret", "kbs:///default/app/api-key"]
        let result = try coffer(home.path, ["run"] + options + ["secrets:1", "/bin/sh", "-c", "busybox stat -c '%a %u' /run/secrets/api-key; cat /run/secrets/api-key"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "400 0\ns3cret-value")
        #expect(!result.stderr.contains("s3cret-value"))
        let listed = try coffer(home.path, ["ps", "-a", "--format", "json"])
        #expect(!listed.stdout.contains("s3cret-value"))

        // Another image is not admitted: the guest stops at the broker, and says why.
        let other = try build(home.path, ["--rootfs", rootfs, "-t", "other:1", "-e", "X=1"])
        let denied = try coffer(home.path, ["run"] + options + [other.id, "/bin/sh", "-c", "cat /run/secrets/api-key"])
        #expect(denied.status == 1)
        #expect(denied.stderr.contains("coffer: the guest's start-up failed attesting to the key broker (reason broker): "), "\(denied.stderr)")
        #expect(denied.stdout.isEmpty)
    }

    /// `coffer build --kbs-key` pins the broker (decision 0037): the image id and the measured
    /// command line (`coffer.kbs=`, SHA-256 of the key's SubjectPublicKeyInfo, checked here against
    /// openssl's DER) cover it; `run --kbs` then needs no `--kbs-key`, and one naming another key is
    /// refused before a VM exists. (The guest's own refusal of another broker is played in
    /// CofferAgentTests/ProvisioningTests.)
    @Test func anImagePinnedToABrokerRunsWithItAndRefusesAnother() throws {
        let fixture = try fixture(kernel: true)
        let home = fixture.home
        let work = try TemporaryDirectory("pinned-run")
        let rootfs = try busyboxRoot(in: work)
        let broker = try LoopbackBroker(coffer: coffer, home: home.path)
        let unpinned = try build(home.path, ["--rootfs", rootfs, "-t", "unpinned:1"])
        let built = try coffer(home.path, ["build", "--no-sign", "--rootfs", rootfs, "--kbs-key", broker.identity, "-t", "pinned:1"])
        #expect(built.status == 0, "\(built.stderr)")
        let id = built.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id != unpinned.id)
        let pin = "sha256:" + (try sh("openssl pkey -pubin -in \(broker.identity) -outform DER | sha256sum").prefix(64))
        #expect(built.stderr.contains("broker     pinned to \(pin)"), "\(built.stderr)")
        let manifest = try coffer(home.path, ["inspect", "pinned:1"]).stdout
        #expect(manifest.contains("\"kbsKey\""))
        let tcb = try coffer(home.path, ["tcb", "--format", "json", "pinned:1", "/bin/true"])
        #expect(tcb.status == 0, "\(tcb.stderr)")
        #expect(try JSONDecoder().decode(TCB.self, from: Data(tcb.stdout.utf8)).commandLine.contains(" coffer.kbs=\(pin)"), "\(tcb.stdout)")

        try broker.admit(image: id, resources: "default/app/*")
        try broker.put("default/app/api-key", Array("pinned-secret".utf8))
        let options = ["--kbs", broker.url, "--kbs-cert", broker.certificate, "--secret", "kbs:///default/app/api-key"]
        let result = try coffer(home.path, ["run"] + options + ["pinned:1", "/bin/sh", "-c", "cat /run/secrets/api-key"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "pinned-secret")

        let vms = { (try? FileManager.default.contentsOfDirectory(atPath: home.file("vms")))?.filter { !$0.hasPrefix(".") }.count ?? 0 }
        let before = vms()
        let other = try coffer(home.path, ["run", "--kbs-key", fixture.key] + options + ["pinned:1", "/bin/true"])
        #expect(other.status == 1)
        #expect(other.stderr.contains("coffer: --kbs-key \(fixture.key) is not the broker key the image pins (\(pin))"), "\(other.stderr)")
        #expect(vms() == before)
        // Unpinned, --kbs alone is still refused: the guest must be told whom to trust.
        let bare = try coffer(home.path, ["run"] + options + ["unpinned:1", "/bin/true"])
        #expect(bare.status == 1 && bare.stderr.contains("needs --kbs-key"), "\(bare.stderr)")
    }
}
