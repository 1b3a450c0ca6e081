@testable import CofferKBS
import CofferCore
import CofferEvidence
import CofferJSON
import CofferKBSProtocol
import CofferTestSupport
import CofferVerifier
import CofferWire
import Crypto
import Foundation
import Testing

/// The host's part of a confidential launch (HostLaunchServices, run by the VM's monitor), through
/// the real `coffer run` and the real `coffer kbs serve` on loopback. Only the guest is played:
/// a stand-in `qemu-system-x86_64` on PATH records its arguments and splices the agent channel to
/// a socket this test serves, so every byte the monitor relays is the monitor's own.
@Suite(.serialized) struct HostRelayTests {
    let coffer = Repository.executable("coffer")
    let kernelHome = VMHomes.coffer

    /// A store sharing the cached kernel, an image, the launcher key the broker trusts, and the
    /// stand-in QEMU.
    final class Launch {
        let home: TemporaryDirectory
        let bin: String
        let image: String
        let launcherKey = Curve25519.Signing.PrivateKey()
        var guestSocket: String { home.file("guest.sock") }
        var argumentsFile: String { home.file("qemu-args.json") }

        init(coffer: String, kernelHome: String) throws {
            let setup = try run(coffer, ["setup", "--home", kernelHome])
            guard setup.status == 0 else { throw TestFailure("coffer setup failed: \(setup.stderr)") }
            home = try TemporaryDirectory("relay")
            try FileManager.default.createSymbolicLink(atPath: home.file("kernel"), withDestinationPath: "\(kernelHome)/kernel")
            try FileManager.default.createDirectory(atPath: home.file("keys"), withIntermediateDirectories: true)
            _ = try home.write("keys/launcher.key", launcherKey.pemRepresentation, mode: 0o600)
            bin = home.file("bin")
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            _ = try home.write("bin/qemu-system-x86_64", Self.fakeQEMU, mode: 0o755)
            let built = try run(coffer, ["build", "--json", "--no-sign", "--binary", "/bin/true:/true", "-t", "relay:1"], environment: ["COFFER_HOME": home.path])
            guard built.status == 0, let id = try JSONValue.parse(Array(built.stdout.utf8))["id"]?.stringValue else {
                throw TestFailure("coffer build failed: \(built.stderr)")
            }
            image = id
        }

        var environment: [String: String] {
            ["COFFER_HOME": home.path, "COFFER_FAKE_QEMU": home.path, "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
        }

        /// `coffer run` in the background; the guest is played meanwhile.
        func start(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Repository.executable("coffer"))
            process.arguments = ["run"] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            return (process, out, err)
        }

        func finish(_ started: (Process, Pipe, Pipe)) -> (status: Int32, stdout: String, stderr: String) {
            let (process, out, err) = started
            let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
        }

        /// Runs `body` (the played guest's part); if it throws, `coffer run` is stopped and what it
        /// said goes with the error.
        func playing<T>(_ started: (Process, Pipe, Pipe), _ guest: PlayedGuest, _ body: () async throws -> T) async throws -> T {
            do { return try await body() } catch {
                // SIGKILL: a SIGTERM would go to the played workload and wait for its end. Closing
                // the channel ends the stand-in QEMU, and with it the VM's monitor.
                kill(started.0.processIdentifier, SIGKILL)
                guest.close()
                let result = finish(started)
                throw TestFailure("\(error); coffer run (status \(result.status)) said: \(result.stderr)")
            }
        }

        /// The spec `coffer run` stored for its one VM.
        func spec() throws -> JSONValue {
            let vms = try FileManager.default.contentsOfDirectory(atPath: home.file("vms")).filter { !$0.hasPrefix(".") }
            guard vms.count == 1 else { throw TestFailure("expected one VM, found \(vms)") }
            return try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: home.file("vms/\(vms[0])/vm.json")))))
        }

        /// The arguments the stand-in QEMU was started with, one launch per line.
        func qemuArguments() throws -> [[String]] {
            let text = try String(contentsOfFile: argumentsFile, encoding: .utf8)
            return try text.split(separator: "\n").map { line in try JSONValue.parse(Array(line.utf8)).arrayValue?.compactMap(\.stringValue) ?? [] }
        }

        /// QEMU's stand-in: records its arguments and splices the agent socket QEMU would connect
        /// its virtio-serial port to with the test's guest socket.
        static let fakeQEMU = """
            #!/usr/bin/python3
            import json, os, selectors, socket, sys
            args = sys.argv[1:]
            home = os.environ["COFFER_FAKE_QEMU"]
            with open(home + "/qemu-args.json", "a") as f:
                f.write(json.dumps(args) + "\\n")
            chardev = args[args.index("-chardev") + 1]
            path = [p[5:] for p in chardev.split(",") if p.startswith("path=")][0]
            agent = socket.socket(socket.AF_UNIX); agent.connect(path)
            guest = socket.socket(socket.AF_UNIX); guest.connect(home + "/guest.sock")
            sel = selectors.DefaultSelector()
            sel.register(agent, selectors.EVENT_READ, guest)
            sel.register(guest, selectors.EVENT_READ, agent)
            while True:
                for key, _ in sel.select():
                    data = key.fileobj.recv(65536)
                    if not data:
                        sys.exit(0)
                    key.data.sendall(data)

            """
    }

    /// The guest's end of the channel: what the agent would send and receive.
    final class PlayedGuest {
        let listener: Int32
        var connection: Int32 = -1
        var decoder = FrameDecoder()
        private var nextID: UInt32 = 1

        init(path: String) throws {
            listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
            }
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            guard bound == 0, listen(listener, 1) == 0 else { throw TestFailure("cannot listen on \(path)") }
        }

        func close() {
            if connection >= 0 { Glibc.close(connection) }
            connection = -1
        }

        deinit {
            close()
            Glibc.close(listener)
        }

        func waitFor(_ condition: @autoclosure () -> Bool = false, fd: Int32, seconds: Int32 = 60) throws {
            var watched = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&watched, 1, seconds * 1000) == 1 else { throw TestFailure("the monitor sent nothing for \(seconds) s") }
        }

        func accept() throws {
            try waitFor(fd: listener)
            connection = Glibc.accept(listener, nil, nil)
            guard connection >= 0 else { throw TestFailure("accept failed") }
            try send(Ready(bootNanoseconds: 1, modulesLoaded: 0).frame)
        }

        func send(_ frame: Frame) throws {
            let bytes = try frame.encoded()
            guard bytes.withUnsafeBytes({ Glibc.send(connection, $0.baseAddress, $0.count, 0) }) == bytes.count else { throw TestFailure("send failed") }
        }

        func next() throws -> Frame {
            while true {
                if let frame = try decoder.next() { return frame }
                try waitFor(fd: connection)
                var buffer = [UInt8](repeating: 0, count: 65536)
                let count = recv(connection, &buffer, buffer.count, 0)
                guard count > 0 else { throw TestFailure("the monitor closed the channel") }
                decoder.append(buffer[..<count])
            }
        }

        /// Reads what the monitor sends before the workload: hostname, init-data, start.
        func awaitStart() throws -> (initData: [UInt8]?, start: StartProcess) {
            var initData: [UInt8]?
            while true {
                let frame = try next()
                switch frame.kind {
                case .hostname: continue
                case .initData: initData = try InitDataMessage(frame).document
                case .start: return (initData, try StartProcess(frame))
                default: throw TestFailure("unexpected \(frame.kind) before start")
                }
            }
        }

        func relay(_ method: BrokerRequest.Method, _ path: String, cookie: String = "", body: [UInt8] = []) throws -> BrokerResponse {
            let id = nextID
            nextID += 1
            try send(BrokerRequest(id: id, method: method, path: path, cookie: cookie, body: body).frame)
            let response = try BrokerResponse(try next())
            #expect(response.id == id)
            return response
        }

        func sampleEvidence(_ reportData: [UInt8]) throws -> [UInt8] {
            try send(SampleEvidenceRequest(reportData: reportData).frame)
            return try SampleEvidenceResponse(try next()).evidence
        }

        func exit(_ status: UInt8, printing text: String = "") throws {
            try send(ProcessStarted(.main, pid: 1).frame)
            if !text.isEmpty { try send(ProcessOutput(.main, .stdout, Array(text.utf8)).frame) }
            try send(ProcessEnded(.main, .exited(status)).frame)
        }
    }

    /// The whole handshake through the relay: auth, sample evidence, attest, two resources. Each
    /// answer is the broker's, unchanged: the cookie it set opens the session, the resource's body
    /// decrypts with this boot's key under the broker's signature (one changed byte of body, path or
    /// key breaks it), and a refusal is byte for byte what the broker says to a direct request.
    /// The init-data the monitor hands over is the spec's and hashes to the measured command line's
    /// digest; the volumes are attached in order, and a second VM cannot take one of them.
    @Test func theRelayCarriesTheGuestsRequestsAndTheBrokersAnswersUnchanged() async throws {
        let launch = try Launch(coffer: coffer, kernelHome: kernelHome)
        let server = try KBSServerProcess(dev: true, launcherKey: launch.launcherKey)
        let anyImage = AttestationPolicy(tees: ["sample": TEEAttestationPolicy(acceptAnyMeasurement: true)])
        #expect(try await server.admin("POST", "/kbs/v0/attestation-policy", JSONEncoder().encode(anyImage)).status == 200)
        let rules = ResourcePolicy(rules: [ResourceRule(resources: ["default/app/*"], anyWorkload: true)])
        #expect(try await server.admin("POST", "/kbs/v0/resource-policy", JSONEncoder().encode(rules)).status == 200)
        #expect(try await server.admin("POST", "/kbs/v0/resource/default/app/api-key", Data("the-api-key".utf8)).status == 200)
        for name in ["alpha", "beta"] {
            let created = try run(coffer, ["volume", "create", name, "--size", "32M", "--key", "kbs:///default/volume/\(name)"], environment: ["COFFER_HOME": launch.home.path])
            #expect(created.status == 0, "\(created.stderr)")
        }
        let signingPub = server.home.path + "/state/kbs/signing.pub"
        let guest = try PlayedGuest(path: launch.guestSocket)
        let started = try launch.start([
            "--verbose", "--kbs", server.url, "--kbs-key", signingPub, "--kbs-cert", server.certificatePath,
            "--secret", "kbs:///default/app/api-key", "-v", "beta:/logs", "-v", "alpha:/data", "relay:1",
        ])
        let document = try await launch.playing(started, guest) { () async throws -> [UInt8] in
        try guest.accept()
        let (initData, _) = try guest.awaitStart()

        // The document handed over is the spec's, and its digest is on the measured command line.
        let spec = try launch.spec()
        let document = try #require(initData)
        #expect(spec["initData"]?.stringValue == String(decoding: document, as: UTF8.self))
        #expect(spec["brokerURL"]?.stringValue == server.url)
        #expect(spec["brokerCertificate"]?.stringValue == (try String(contentsOfFile: server.certificatePath, encoding: .utf8)))
        let arguments = try #require(try launch.qemuArguments().first)
        let commandLine = arguments[try #require(arguments.firstIndex(of: "-append")) + 1]
        #expect(commandLine.split(separator: " ").contains("coffer.initdata=sha384:\(Hex.encode(SHA512Digest.hash384(document)))"), "\(commandLine)")
        let parsed = try InitDataDocument(parsing: document)
        let configuration = try #require(try LaunchConfiguration(initData: parsed))
        #expect(configuration.image == launch.image)
        #expect(configuration.broker?.identity == (try P256.Signing.PublicKey(pemRepresentation: String(contentsOfFile: signingPub, encoding: .utf8)).pemRepresentation))
        #expect(configuration.secrets == [.init(resource: "kbs:///default/app/api-key", path: "/run/secrets/api-key")])
        #expect(configuration.volumes.map(\.name) == ["beta", "alpha"])
        // Volume n is disk coffer-vol<n>, after the root's read-only disks, read-write.
        let drives = arguments.indices.filter { arguments[$0] == "-drive" }.map { arguments[$0 + 1] }
        let devices = arguments.indices.filter { arguments[$0] == "-device" }.map { arguments[$0 + 1] }
        #expect(drives.suffix(2) == [
            "file=\(launch.home.path)/volumes/beta/disk.img,format=raw,if=none,id=vol0",
            "file=\(launch.home.path)/volumes/alpha/disk.img,format=raw,if=none,id=vol1",
        ])
        #expect(devices.suffix(2) == ["virtio-blk-device,drive=vol0,serial=coffer-vol0", "virtio-blk-device,drive=vol1,serial=coffer-vol1"])
        #expect(drives.dropLast(2).allSatisfy { $0.contains("readonly=on") })

        // While this VM runs, no other may take its volume.
        let second = try run(coffer, ["run", "--kbs", server.url, "--kbs-key", signingPub, "-v", "alpha:/data", "relay:1"], environment: launch.environment)
        #expect(second.status != 0)
        #expect(second.stderr.contains("coffer: the volume disk \(launch.home.path)/volumes/alpha/disk.img is in use by another running VM"), "\(second.stderr)")

        // auth
        let request = KBSRequest(tee: "sample", extraParams: .object([KBSProtocol.supportedHashAlgorithmsKey: .array([.string("sha384")])]))
        let auth = try guest.relay(.post, "/kbs/v0/auth", body: CanonicalJSON.serialize(request.json))
        #expect(auth.status == 200)
        #expect(!auth.cookie.isEmpty)
        let challenge = try KBSChallenge(json: try JSONValue.parse(auth.body))

        // Sample evidence over this report data, the launch measurement and the init-data digest.
        let key = TEEKeyPair.ec()
        let runtime = RuntimeData(nonce: challenge.nonce, teePubkey: key.publicKey)
        // As the guest derives it: the binding's SHA-384, zero-padded to the 64-byte field.
        let binding = ReportDataBinding.expected(runtimeData: runtime, additionalEvidence: "", hash: .sha384)
        let reportData = binding + [UInt8](repeating: 0, count: 64 - binding.count)
        let evidence = try SampleEvidence(parsing: try guest.sampleEvidence(reportData))
        #expect(evidence.reportData == reportData)
        #expect(evidence.hostData == parsed.field(length: 32))
        let measured = try #require(spec["launchMeasurement"]?.stringValue)
        let measurement = try #require(Hex.decode(measured.replacingOccurrences(of: "sha256:", with: "")))
        #expect(evidence.measurement == measurement + [UInt8](repeating: 0, count: 16))
        #expect(evidence.signerPublicKey == Array(launch.launcherKey.publicKey.rawRepresentation))
        #expect(launch.launcherKey.publicKey.isValidSignature(evidence.signature, for: evidence.bytesToSign))

        // attest, with the init-data, on the relayed cookie
        let attestation = KBSAttestation(
            initData: InitData(format: "toml", body: String(decoding: document, as: UTF8.self)), runtimeData: runtime,
            teeEvidence: CompositeEvidence(primaryEvidence: .object(["evidence": .string(Data(evidence.encoded).base64EncodedString())])))
        let attest = try guest.relay(.post, "/kbs/v0/attest", cookie: auth.cookie, body: CanonicalJSON.serialize(attestation.json))
        #expect(attest.status == 200, "\(String(decoding: attest.body, as: UTF8.self))")

        // resource: the broker's signature over this body, this path and this boot's key
        let resource = try ResourceURI(parsing: "kbs:///default/app/api-key")
        let answer = try guest.relay(.get, "/kbs/v0/resource/\(resource.path)", cookie: auth.cookie)
        #expect(answer.status == 200)
        let brokerKey = try P256.Signing.PublicKey(pemRepresentation: String(contentsOfFile: signingPub, encoding: .utf8))
        // Version 2 (decision 0022 §5) covers body, path and key: the relay carried the header unchanged.
        try ResourceSignature.verify(answer.signature, body: answer.body, resource: resource, teePubkey: key.publicKey, key: brokerKey)
        #expect(try key.decrypt(JWEResponse(json: JSONValue.parse(answer.body))) == Array("the-api-key".utf8))
        #expect(!answer.signature.isEmpty)

        // A refusal, relayed and direct, on the same session: the same status and bytes.
        let missing = "/kbs/v0/resource/default/app/missing"
        let relayed = try guest.relay(.get, missing, cookie: auth.cookie)
        let direct = try await server.client.send("GET", missing, headers: ["Cookie": "\(KBSProtocol.sessionCookie)=\(auth.cookie)"])
        #expect(relayed.status == UInt16(direct.status))
        #expect(relayed.status == 404 || relayed.status == 403, "\(relayed.status)")
        #expect(relayed.body == Array(direct.body))
        #expect(relayed.signature == (direct.header(ResourceSignature.header) ?? ""))

        try guest.exit(0, printing: "provisioned\n")
        return document
        }
        let result = launch.finish(started)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "provisioned\n")
        // Said once: where secrets come from, and what the sample evidence is.
        let notice = "coffer: secrets come from the broker at \(server.url) only after the guest attests; the evidence is SAMPLE evidence signed by this host's launcher key"
        #expect(result.stderr.components(separatedBy: notice).count == 2, "\(result.stderr)")
        #expect(result.stderr.contains("coffer:   init-data sha384:\(Hex.encode(SHA512Digest.hash384(document)))"), "\(result.stderr)")
        #expect(result.stderr.contains("coffer.initdata=sha384:"), "\(result.stderr)")
        await server.client.shutdown()
        server.stop()
    }

    /// A broker the host cannot reach: status 0 and the reason, to the guest; the guest's refusal
    /// (reason broker) reaches the user as the agent wrote it, and `coffer run` fails.
    @Test func anUnreachableBrokerIsStatusZeroWithAReasonAndTheGuestsFailureIsPrinted() throws {
        let launch = try Launch(coffer: coffer, kernelHome: kernelHome)
        let key = try launch.home.write("signing.pub", P256.Signing.PrivateKey().publicKey.pemRepresentation)
        let guest = try PlayedGuest(path: launch.guestSocket)
        // Port 1 on loopback: nothing listens there.
        let started = try launch.start(["--kbs", "http://127.0.0.1:1", "--kbs-key", key, "--secret", "kbs:///default/app/api-key", "relay:1"])
        try guest.accept()
        _ = try guest.awaitStart()
        let request = KBSRequest(tee: "sample")
        let auth = try guest.relay(.post, "/kbs/v0/auth", body: CanonicalJSON.serialize(request.json))
        #expect(auth.status == 0)
        let reason = String(decoding: auth.body, as: UTF8.self)
        #expect(reason.hasPrefix("the host could not reach the broker: "), "\(reason)")
        #expect(auth.cookie.isEmpty && auth.signature.isEmpty)

        try guest.send(AgentFailure(.broker, "the broker at http://127.0.0.1:1 could not be reached: \(reason)").frame)
        let result = launch.finish(started)
        #expect(result.status == 1)
        #expect(result.stderr.contains(
            "coffer: the guest's start-up failed attesting to the key broker (reason broker): the broker at http://127.0.0.1:1 could not be reached: the host could not reach the broker: "),
            "\(result.stderr)")
    }
}
