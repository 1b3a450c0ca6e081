// kbs-bench: a bounded loopback load test of the real `coffer kbs serve` process (HTTPS, SQLite).
//
// - handshakes: full auth → attest → resource with sample evidence (`--dev`), N in total,
//   C concurrent clients, each on its own keep-alive HTTPS connection (`KBSConnection`, as a
//   Trustee client carries its RCAR exchange); prints handshakes/s, p50/p99 latency, errors.
// - token reads: resource GETs with `Authorization: Bearer`, M in total, C concurrent.
// - CPU: the server's and this load generator's CPU seconds per handshake (from /proc), which
//   say what the rate would be on an idle machine when other work shares the cores.
//
// Usage: kbs-bench [HANDSHAKES=2000] [READS=10000] [CONCURRENCY=64]
// The `coffer` binary is taken from beside this program (build both in the same configuration).
import CofferCore
import CofferKBS
import Crypto
import Foundation
import Synchronization

EventLoopExecutor.adopt()
let arguments = CommandLine.arguments
let handshakes = arguments.count > 1 ? Int(arguments[1]) ?? 2000 : 2000
let reads = arguments.count > 2 ? Int(arguments[2]) ?? 10000 : 10000
let concurrency = arguments.count > 3 ? Int(arguments[3]) ?? 64 : 64
let coffer = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("coffer").path

let home = NSTemporaryDirectory() + "kbs-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: home) }
let admin = P256.Signing.PrivateKey()
let launcher = Curve25519.Signing.PrivateKey()
try admin.publicKey.pemRepresentation.write(toFile: home + "/admin.pub", atomically: true, encoding: .utf8)
try launcher.publicKey.pemRepresentation.write(toFile: home + "/launcher.pub", atomically: true, encoding: .utf8)

let server = Process()
server.executableURL = URL(fileURLWithPath: coffer)
server.arguments = ["kbs", "serve", "--dev", "--home", home + "/state", "--listen", "127.0.0.1:0",
                    "--admin-key", home + "/admin.pub", "--sample-signer", home + "/launcher.pub"]
let output = Pipe()
server.standardOutput = output
server.standardError = FileHandle.nullDevice
try server.run()
defer { server.terminate(); server.waitUntilExit() }
var announced = ""
while !announced.contains("\n") {
    let chunk = output.fileHandleForReading.availableData
    if chunk.isEmpty { print("kbs-bench: the server exited"); exit(1) }
    announced += String(decoding: chunk, as: UTF8.self)
}
let url = String(announced.split(separator: "\n")[0].dropFirst("listening on ".count))
let certificate = try String(contentsOfFile: home + "/state/kbs/tls.crt", encoding: .utf8)
let client = try KBSClient(baseURL: url, trustedCertificatePEM: certificate, maxConnections: concurrency)

let measurement = [UInt8](repeating: 0x42, count: 48)
let adminHeaders = ["Authorization": "Bearer \(try AdminAuthenticator.token(key: admin, now: Date()))"]
let policy = AttestationPolicy(tees: ["sample": TEEAttestationPolicy(referenceValues: ["measurement": [Hex.encode(measurement)]])])
_ = try await client.send("POST", "/kbs/v0/attestation-policy", body: JSONEncoder().encode(policy), headers: adminHeaders)
_ = try await client.send("POST", "/kbs/v0/resource-policy", body: JSONEncoder().encode(ResourcePolicy(rules: [ResourceRule(resources: ["bench/*"], measurements: ["measurement": [Hex.encode(measurement)]])])), headers: adminHeaders)
_ = try await client.send("POST", "/kbs/v0/resource/bench/key/one", body: Data("bench-secret".utf8), headers: adminHeaders)
let attester = SampleAttester(launcherKey: launcher, measurement: measurement)

final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Runs `total` operations on `concurrency` tasks, each a client with its own connection and TEE
/// key pair (an attestation agent makes one per boot, not per request; the KBS still makes a fresh
/// ephemeral key for every JWE); returns (seconds, sorted latencies, errors).
func load(total: Int, _ operation: @escaping @Sendable (KBSConnection, TEEKeyPair) async throws -> Void) async -> (Double, [Double], Int) {
    let next = Counter()
    let clock = ContinuousClock()
    let start = clock.now
    let results = await withTaskGroup(of: ([Double], Int).self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var latencies: [Double] = [], errors = 0
                guard let connection = try? await KBSConnection.connect(url: url, trustedCertificatePEM: certificate) else {
                    return ([], 1)
                }
                defer { Task { await connection.close() } }
                let key = TEEKeyPair.ec()
                while next.take() < total {
                    let begin = clock.now
                    do { try await operation(connection, key) } catch { errors += 1 }
                    let d = clock.now - begin
                    latencies.append(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
                }
                return (latencies, errors)
            }
        }
        var all: [([Double], Int)] = []
        for await r in group { all.append(r) }
        return all
    }
    let d = clock.now - start
    return (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, results.flatMap(\.0).sorted(), results.map(\.1).reduce(0, +))
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000
}

/// CPU seconds (user + system) a process has used, from /proc/PID/stat fields 14 and 15.
func cpuSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
let serverCPU0 = cpuSeconds(server.processIdentifier), clientCPU0 = cpuSeconds(getpid())
let (hsSeconds, hsLatencies, hsErrors) = await load(total: handshakes) { connection, key in
    let hs = try await connection.handshake(tee: "sample", key: key) { runtime, hash in try attester.evidence(runtimeData: runtime, hash: hash) }
    let (secret, _) = try await connection.resource("bench/key/one", session: hs.session, key: key)
    guard secret == Array("bench-secret".utf8) else { throw CocoaError(.coderInvalidValue) }
}
let serverCPU = cpuSeconds(server.processIdentifier) - serverCPU0, clientCPU = cpuSeconds(getpid()) - clientCPU0
print(String(format: "handshakes (auth+attest+resource, sample, HTTPS): %d in %.2f s = %.0f/s, p50 %.1f ms, p99 %.1f ms, errors %d, concurrency %d",
             handshakes, hsSeconds, Double(handshakes) / hsSeconds, percentile(hsLatencies, 0.5), percentile(hsLatencies, 0.99), hsErrors, concurrency))
print(String(format: "CPU per handshake: server %.3f ms, load generator %.3f ms (2 idle cores would sustain about %.0f/s)",
             serverCPU / Double(handshakes) * 1000, clientCPU / Double(handshakes) * 1000, 2 / ((serverCPU + clientCPU) / Double(handshakes))))

let key = TEEKeyPair.ec()
let token = try await client.handshake(tee: "sample", key: key) { runtime, hash in try attester.evidence(runtimeData: runtime, hash: hash) }.token
let (rdSeconds, rdLatencies, rdErrors) = await load(total: reads) { connection, _ in
    let reply = try await connection.send("GET", "/kbs/v0/resource/bench/key/one", body: nil, headers: ["Authorization": "Bearer \(token)"])
    guard reply.status == 200 else { throw CocoaError(.coderInvalidValue) }
}
print(String(format: "token reads (GET resource, Bearer, HTTPS): %d in %.2f s = %.0f/s, p50 %.1f ms, p99 %.1f ms, errors %d",
             reads, rdSeconds, Double(reads) / rdSeconds, percentile(rdLatencies, 0.5), percentile(rdLatencies, 0.99), rdErrors))
