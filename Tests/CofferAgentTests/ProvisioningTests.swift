@testable import CofferAgent
import CofferCore
import CofferEvidence
import CofferJSON
@testable import CofferKBS
import CofferKBSProtocol
import CofferSys
import CofferTestSupport
import CofferVerifier
import CofferWire
import Crypto
import Foundation
import Testing

/// Provisioning (decision 0022) played end to end without a VM: `HostRequestLoop` on one end of a
/// socketpair, the test as the host on the other, relaying the agent's broker requests over real
/// HTTP to a real `coffer kbs serve --dev`, and signing sample evidence as the launcher does. A
/// hostile relay changes the answers; the workload must never start and no secret be written.
@Suite(.serialized) struct ProvisioningTests {
    static let workload = StartProcess(argv: ["/bin/sh", "-c", "cat /run/secrets/app/key"], env: ["PATH=/bin"], cwd: "/")
    static let secrets = [
        LaunchConfiguration.Secret(resource: "kbs:///default/app/key", path: "/run/secrets/app/key"),
        LaunchConfiguration.Secret(resource: "kbs:///default/app/db-password", path: "/run/secrets/db/password"),
    ]

    static func configuration(_ broker: BrokerProcess, secrets: [LaunchConfiguration.Secret] = secrets, volumes: [LaunchConfiguration.Volume] = []) -> LaunchConfiguration {
        LaunchConfiguration(
            image: "sha256:" + String(repeating: "1f", count: 32), broker: .init(url: broker.url, identity: broker.identity), secrets: secrets, volumes: volumes)
    }

    /// One boot of the agent against `relay`'s host; returns once the workload started or the launch stopped.
    struct Boot {
        var failure: AgentFailure?
        var started: [StartProcess]
        var console: [String]
        var relay: TestRelay
        var root: TemporaryDirectory
        var volumes: RecordingVolumes

        var secretFiles: [String] {
            (FileManager.default.enumerator(atPath: root.path + "/run/secrets")?.allObjects as? [String] ?? [])
                .filter { (try? FileManager.default.attributesOfItem(atPath: root.path + "/run/secrets/" + $0)[.type] as? FileAttributeType) == .typeRegular }
        }
    }

    static func boot(
        _ broker: BrokerProcess, _ configuration: LaunchConfiguration, pin: BrokerPin? = nil, permission: ExecPolicy = .deny, early: [Frame] = [],
        volumes: (any VolumeAttacher)? = nil, tamper: @escaping Tamper = { _, _, answer, _ in [answer.frame] }
    ) async throws -> Boot {
        let document = try configuration.initDataDocument()
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else { throw TestFailure("socketpair") }
        let host = FileDescriptor(rawValue: ends[0])
        let root = try TemporaryDirectory("coffer-secrets")
        let recording = RecordingVolumes()
        let transcript = ConsoleTranscript()
        let spawner = RecordingSpawner()
        let box = LoopBox(HostRequestLoop(
            port: FileDescriptor(rawValue: ends[1]), permission: permission, workload: WorkloadBinding(Self.workload),
            initData: try MeasuredInitData(algorithm: "sha384", digest: document.digest), brokerPin: pin, console: Console(transcript: transcript),
            spawner: spawner, evidence: RecordingEvidence(), secrets: SecretsDirectory(root: root.path, mountsTmpfs: false),
            volumes: volumes ?? recording))
        let relay = TestRelay(host: host, broker: broker, document: document, tamper: tamper)
        for frame in early { try host.writeAll(try frame.encoded()) }
        relay.start()
        let message = InitDataMessage(document: document.bytes)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                do {
                    try box.loop.handle(message.frame)
                    try box.loop.handle(Self.workload.frame)
                } catch let failure as AgentFailure {
                    box.failure = failure
                } catch {
                    box.failure = AgentFailure(.start, "not an AgentFailure: \(error)")
                }
                done.resume()
            }.start()
        }
        box.loop.port.close()
        relay.finished.wait()
        host.close()
        return Boot(failure: box.failure, started: spawner.started, console: transcript.lines, relay: relay, root: root, volumes: recording)
    }

    static func pin(_ identity: String) throws -> BrokerPin {
        BrokerPin(subjectPublicKeyInfo: Array(try P256.Signing.PublicKey(pemRepresentation: identity).derRepresentation))
    }

    /// The host writes its own key into the init-data as the broker's identity and signs every
    /// resource with it (the measurement changes, so the real broker would refuse it, but the
    /// guest would take the host's resources: a volume key the host knows). Unpinned, that works;
    /// with the image's pin (`coffer.kbs=`, decision 0037) the guest asks nothing and starts nothing.
    @Test func aBrokerTheImageDoesNotPinIsNeverAsked() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let hostKey = P256.Signing.PrivateKey()
        var substituted = Self.configuration(broker)
        substituted.broker = .init(url: broker.url, identity: hostKey.publicKey.pemRepresentation)
        let forge: Tamper = { index, request, answer, relay in
            guard index >= 2 else { return [answer.frame] }
            let attestation = try KBSAttestation(json: try JSONValue.parse(relay.requests[1].body))
            let body = CanonicalJSON.serialize(try JWE.encrypt(Array("chosen-by-the-host".utf8), to: attestation.runtimeData.teePubkey).json)
            let path = String(request.path.dropFirst("/kbs/v0/resource/".count))
            let signature = try ResourceSignature.sign(
                body: body, resource: try ResourceURI(path: path), teePubkey: attestation.runtimeData.teePubkey, key: hostKey)
            return [BrokerResponse(id: request.id, status: 200, signature: signature, body: body).frame]
        }
        // Unpinned, the substitution succeeds: the workload would read the host's secret.
        let unpinned = try await Self.boot(broker, substituted, tamper: forge)
        #expect(unpinned.failure == nil, "\(unpinned.failure?.message ?? "")")
        #expect(FileManager.default.contents(atPath: unpinned.root.path + "/run/secrets/app/key").map(Array.init) == Array("chosen-by-the-host".utf8))

        let pinned = try await Self.boot(broker, substituted, pin: try Self.pin(broker.identity), tamper: forge)
        let failure = try #require(pinned.failure, "the launch went on with a broker the image does not pin")
        #expect(failure.reason == .broker && failure.id == .main, "\(failure.reason) \(failure.message)")
        #expect(failure.message.contains("is not the one the image pins (coffer.kbs=\(try Self.pin(broker.identity).description))"), "\(failure.message)")
        #expect(pinned.relay.requests.isEmpty && pinned.relay.sampleRequests == 0)
        #expect(pinned.started.isEmpty)
        #expect(pinned.secretFiles.isEmpty)
    }

    static func secretValues() -> [String] {
        BrokerProcess.resources.values.map { String(decoding: $0, as: UTF8.self) }.filter { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }
    }

    @Test func anHonestRelayPlacesTheSecretsOpensTheVolumeAndStartsTheWorkload() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let volume = LaunchConfiguration.Volume(name: "data", key: "kbs:///default/vol/data", path: "/data")
        // Sent by the host while the agent awaits the broker: kept, and handled after the workload started, in order.
        let exec = StartProcess(id: ProcessID(2), argv: ["/bin/true"], env: ["PATH=/bin"], cwd: "/")
        // The image pins this broker (coffer.kbs=): the init-data names it, so the launch goes on.
        let boot = try await Self.boot(
            broker, Self.configuration(broker, volumes: [volume]), pin: try Self.pin(broker.identity), permission: .allow,
            early: [StdinData(.main, Array("early".utf8)).frame, exec.frame])
        #expect(boot.failure == nil, "\(boot.failure?.message ?? "")")
        #expect(boot.started.map(\.argv) == [Self.workload.argv, exec.argv])
        let secrets = boot.root.path + "/run/secrets"
        for (path, resource) in [("app/key", "default/app/key"), ("db/password", "default/app/db-password")] {
            #expect(FileManager.default.contents(atPath: "\(secrets)/\(path)").map(Array.init) == BrokerProcess.resources[resource])
            var info = stat()
            #expect(lstat("\(secrets)/\(path)", &info) == 0)
            #expect(info.st_mode & 0o7777 == 0o400 && info.st_uid == 0 && (info.st_mode & S_IFMT) == S_IFREG)
        }
        var directory = stat()
        #expect(stat("\(secrets)/db", &directory) == 0 && directory.st_mode & 0o7777 == 0o755)
        #expect(stat(secrets, &directory) == 0 && directory.st_mode & 0o7777 == 0o711)
        #expect(boot.volumes.attached.map(\.name) == ["data"])
        #expect(boot.volumes.attached.first?.key == BrokerProcess.resources["default/vol/data"])
        // The guest composed every request: auth, attest, then exactly the resources its init-data names.
        #expect(boot.relay.requests.map(\.path) == ["/kbs/v0/auth", "/kbs/v0/attest", "/kbs/v0/resource/default/app/key",
                                                    "/kbs/v0/resource/default/app/db-password", "/kbs/v0/resource/default/vol/data"])
        #expect(boot.relay.sampleRequests == 1)
        // No TEE here: the guest asks for `sample`, and attests with its measured document verbatim.
        #expect(try KBSRequest(json: try JSONValue.parse(boot.relay.requests[0].body)).tee == "sample")
        let attestation = try KBSAttestation(json: try JSONValue.parse(boot.relay.requests[1].body))
        #expect(attestation.initData == InitData(format: "toml", body: try Self.configuration(broker, volumes: [volume]).initDataDocument().text))
        let console = boot.console.joined(separator: "\n")
        #expect(console.contains("placed 2 secrets"))
        for secret in Self.secretValues() { #expect(!console.contains(secret)) }
    }

    /// Each hostile relay stops the launch before the workload, with no secret file left behind.
    @Test func aHostileRelayNeverStartsTheWorkloadOrWritesASecret() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        // An earlier boot's answer for default/app/key, recorded by the host (JWE to that boot's key).
        let earlier = try await Self.boot(broker, Self.configuration(broker))
        #expect(earlier.failure == nil)
        let recorded = try #require(earlier.relay.answers.count > 2 ? earlier.relay.answers[2] : nil)
        let hostKey = P256.Signing.PrivateKey()

        let cases: [(String, AgentFailure.Reason, String, Tamper)] = [
            ("swaps two resources", .broker, "not signed by the broker", { index, request, answer, relay in
                guard index == 2 else { return [answer.frame] }
                var other = relay.relay(BrokerRequest(id: request.id, method: .get, path: "/kbs/v0/resource/default/app/db-password", cookie: request.cookie))
                other.id = request.id
                return [other.frame]
            }),
            ("replays an earlier boot's answer", .broker, "not signed by the broker", { index, request, answer, _ in
                guard index == 2 else { return [answer.frame] }
                return [BrokerResponse(id: request.id, status: 200, signature: recorded.signature, body: recorded.body).frame]
            }),
            ("truncates a body", .broker, "not signed by the broker", { index, _, answer, _ in
                var cut = answer
                if index == 2 { cut.body = Array(cut.body.dropLast(20)) }
                return [cut.frame]
            }),
            ("edits one byte of a body", .broker, "not signed by the broker", { index, _, answer, _ in
                var edited = answer
                if index == 2 { edited.body[edited.body.count / 2] ^= 0x01 }
                return [edited.frame]
            }),
            ("answers in place of the broker, with its own key", .broker, "not signed by the broker", { index, request, answer, relay in
                guard index == 2 else { return [answer.frame] }
                let attestation = try KBSAttestation(json: try JSONValue.parse(relay.requests[1].body))
                let body = CanonicalJSON.serialize(try JWE.encrypt(Array("forged".utf8), to: attestation.runtimeData.teePubkey).json)
                let signature = try ResourceSignature.sign(
                    body: body, resource: try ResourceURI(path: "default/app/key"), teePubkey: attestation.runtimeData.teePubkey, key: hostKey)
                return [BrokerResponse(id: request.id, status: 200, signature: signature, body: body).frame]
            }),
            ("drops the signature", .broker, "carries no X-Coffer-KBS-Signature", { index, _, answer, _ in
                var unsigned = answer
                if index == 2 { unsigned.signature = "" }
                return [unsigned.frame]
            }),
            ("answers with another request's id", .protocolViolation, "while the agent awaited request 3", { index, _, answer, _ in
                var moved = answer
                if index == 2 { moved.id += 1 }
                return [moved.frame]
            }),
            ("answers a request nobody asked", .protocolViolation, "answered broker request 99", { index, _, answer, _ in
                index == 0 ? [BrokerResponse(id: 99, status: 200).frame, answer.frame] : [answer.frame]
            }),
            ("sends sample evidence unasked", .protocolViolation, "sample evidence the agent did not ask for", { index, _, answer, _ in
                index == 0 ? [SampleEvidenceResponse(evidence: [1, 2, 3]).frame, answer.frame] : [answer.frame]
            }),
            ("cannot reach the broker", .broker, "could not be reached through the host after 3 attempts: connection refused", { _, request, _, _ in
                [BrokerResponse(id: request.id, status: 0, body: Array("connection refused".utf8)).frame]
            }),
        ]
        for (name, reason, message, tamper) in cases {
            let boot = try await Self.boot(broker, Self.configuration(broker), tamper: tamper)
            let failure = try #require(boot.failure, "\(name): the launch went on")
            #expect(failure.reason == reason && failure.id == .main, "\(name): \(failure.reason) \(failure.message)")
            #expect(failure.message.contains(message), "\(name): \(failure.message)")
            #expect(boot.started.isEmpty, "\(name)")
            #expect(boot.secretFiles.isEmpty, "\(name): \(boot.secretFiles)")
            let console = boot.console.joined(separator: "\n") + failure.message
            for secret in Self.secretValues() { #expect(!console.contains(secret), "\(name)") }
            if name == "cannot reach the broker" { #expect(boot.relay.requests.map(\.path) == Array(repeating: "/kbs/v0/auth", count: 3)) }
        }
    }

    /// The broker's own refusal reaches the operator with the denial's claim, expected and actual.
    @Test func aDeniedResourceNamesTheClaimExpectedAndActual() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let denied = LaunchConfiguration.Secret(resource: "kbs:///default/other/key", path: "/run/secrets/other")
        let boot = try await Self.boot(broker, Self.configuration(broker, secrets: [Self.secrets[0], denied]))
        let failure = try #require(boot.failure)
        #expect(failure.reason == .broker)
        #expect(failure.message.contains("the broker denied kbs:///default/other/key: claim measurement"), "\(failure.message)")
        #expect(failure.message.contains(String(repeating: "ab", count: 48)) && failure.message.contains(Hex.encode(BrokerProcess.measurement)))
        #expect(failure.message.contains("(resource policy does not admit this workload)"))
        #expect(boot.started.isEmpty && boot.secretFiles.isEmpty)
    }

    /// A volume that cannot be opened (here: refused by the attacher, after its key was released)
    /// stops the launch with reason `volume`, naming it; the workload never starts.
    @Test func aVolumeThatDoesNotOpenStopsTheLaunch() async throws {
        let broker = try await BrokerProcess()
        defer { broker.stop() }
        let volume = LaunchConfiguration.Volume(name: "data", key: "kbs:///default/vol/data", path: "/data")
        let boot = try await Self.boot(broker, Self.configuration(broker, volumes: [volume]), volumes: RefusingAttacher())
        #expect(boot.failure?.reason == .volume && boot.failure?.message.contains("volume data: no disk attached for it") == true)
        #expect(boot.started.isEmpty)
    }
}

/// What the test's relay does with one broker answer: the frames it sends the agent instead.
typealias Tamper = @Sendable (_ index: Int, _ request: BrokerRequest, _ answer: BrokerResponse, _ relay: TestRelay) throws -> [Frame]

/// The host's side of a launch, as the VM monitor and `HostLaunchServices` do it, with a hook.
final class TestRelay: @unchecked Sendable {
    let host: FileDescriptor
    let broker: BrokerProcess
    let document: InitDataDocument
    let tamper: Tamper
    private(set) var requests: [BrokerRequest] = []
    /// What the broker really answered, in order.
    private(set) var answers: [BrokerResponse] = []
    private(set) var sampleRequests = 0
    let finished = DispatchSemaphore(value: 0)

    init(host: FileDescriptor, broker: BrokerProcess, document: InitDataDocument, tamper: @escaping Tamper) {
        self.host = host
        self.broker = broker
        self.document = document
        self.tamper = tamper
    }

    func start() {
        Thread {
            self.serve()
            self.finished.signal()
        }.start()
    }

    private func serve() {
        var decoder = FrameDecoder()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(host.rawValue, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            decoder.append(buffer[0..<count])
            while let frame = try? decoder.next() {
                var replies: [Frame] = []
                if let request = try? BrokerRequest(frame) {
                    let answer = relay(request)
                    requests.append(request)
                    answers.append(answer)
                    replies = (try? tamper(requests.count - 1, request, answer, self)) ?? []
                } else if let request = try? SampleEvidenceRequest(frame) {
                    sampleRequests += 1
                    let evidence = try? SampleEvidence.signed(
                        measurement: BrokerProcess.measurement, hostData: document.field(length: 32), reportData: request.reportData, by: broker.launcherKey)
                    replies = [SampleEvidenceResponse(evidence: evidence?.encoded ?? []).frame]
                }
                for reply in replies { try? host.writeAll(try reply.encoded()) }
            }
        }
    }

    /// HTTP to the broker, as `HostLaunchServices.relay` does (status 0 when it cannot), through
    /// curl: a subprocess from the relay's own thread, so the relay never waits for Swift's
    /// cooperative pool, which the suite's other tests may hold (the agent's 30 s deadline would
    /// then fire under load).
    func relay(_ request: BrokerRequest) -> BrokerResponse {
        func unreachable(_ why: String) -> BrokerResponse {
            BrokerResponse(id: request.id, status: 0, body: Array("the test relay could not reach the broker: \(why)".utf8))
        }
        guard let work = try? TemporaryDirectory("coffer-test-relay") else { return unreachable("no scratch directory") }
        var arguments = ["-s", "-S", "--max-time", "60", "-D", work.file("headers"), "-o", work.file("body"), "-X", request.method.name]
        if !request.cookie.isEmpty { arguments += ["-H", "Cookie: \(KBSProtocol.sessionCookie)=\(request.cookie)"] }
        if request.method == .post {
            guard FileManager.default.createFile(atPath: work.file("request"), contents: Data(request.body)) else { return unreachable("no request file") }
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@" + work.file("request")]
        }
        guard let result = try? run("/usr/bin/curl", arguments + [broker.url + request.path]), result.status == 0,
              let headers = try? String(contentsOfFile: work.file("headers"), encoding: .utf8) else {
            return unreachable("curl failed")
        }
        var status: UInt16 = 0, cookie = "", signature = ""
        for line in headers.split(whereSeparator: \.isNewline) {
            let text = String(line)
            if text.hasPrefix("HTTP/") { status = UInt16(text.split(separator: " ").dropFirst().first ?? "") ?? 0; continue }
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = text[..<colon].lowercased(), value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "set-cookie", value.hasPrefix(KBSProtocol.sessionCookie + "=") {
                cookie = String(value.dropFirst(KBSProtocol.sessionCookie.count + 1).prefix { $0 != ";" })
            }
            if name == ResourceSignature.header.lowercased() { signature = value }
        }
        let body = (try? Data(contentsOf: URL(fileURLWithPath: work.file("body")))).map(Array.init) ?? []
        return BrokerResponse(id: request.id, status: status, cookie: cookie, signature: signature, body: body)
    }
}

/// The agent's loop, handed to the thread that plays the guest.
final class LoopBox: @unchecked Sendable {
    var loop: HostRequestLoop
    var failure: AgentFailure?
    init(_ loop: HostRequestLoop) { self.loop = loop }
}

/// Records the volumes it was asked to open and their keys.
final class RecordingVolumes: VolumeAttacher, @unchecked Sendable {
    private(set) var attached: [(name: String, key: [UInt8])] = []

    func attach(_ volume: LaunchConfiguration.Volume, index: Int, key: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(AgentFailure) {
        attached.append((volume.name, key))
    }
}

/// An attacher that refuses every volume as the real one does when its disk is missing.
struct RefusingAttacher: VolumeAttacher {
    func attach(_ volume: LaunchConfiguration.Volume, index: Int, key: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(AgentFailure) {
        throw AgentFailure(.volume, "volume \(volume.name): no disk attached for it", id: .main)
    }
}
