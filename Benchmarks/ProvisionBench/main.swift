// provision-bench: what a confidential launch costs. One image, run two ways, alternating, in one run:
//
// - plain: `coffer run --rm IMAGE` (a static program that exits at once);
// - confidential: the same with `--kbs … --secret A --secret B -v VOLUME:/data`: the guest attests
//   to a real `coffer kbs serve --dev` on loopback through the host's relay (sample evidence),
//   receives two secrets and the volume's key, and opens the encrypted volume (formatted by the
//   first run, which is reported on its own and not counted).
//
// Prints both medians, the overhead (the issue's goal: at most 0.3 s under TCG here), where the
// guest's time went (the agent's provisioning line from the console log), and the guest userspace
// size with the broker client and crypto linked in (goal: at most 20 MB).
//
// Usage: provision-bench COFFER AGENT HOME [RUNS]   (HOME must hold a kernel: `coffer setup --home HOME`)
import CofferCore
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: provision-bench COFFER AGENT HOME [RUNS]\n".utf8))
    exit(2)
}
let coffer = arguments[1], agent = arguments[2], home = arguments[3]
let runs = arguments.count > 4 ? max(1, Int(arguments[4]) ?? 7) : 7
let work = NSTemporaryDirectory() + "provision-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
let environment = ["COFFER_HOME": home]
setenv("COFFER_HOME", home, 1)

/// Runs a shell command line in `work`, failing the benchmark unless it succeeds; returns stdout.
@discardableResult
func shell(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    process.currentDirectoryURL = URL(fileURLWithPath: work)
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CofferError(.system, "`\(command)` failed with \(process.terminationStatus)") }
    return String(decoding: data, as: UTF8.self)
}

/// Runs `coffer` with `arguments`; returns its wall time in seconds, or stops with its output.
func timed(_ name: String, _ arguments: [String]) throws -> Double {
    let log = "\(work)/\(name).log"
    let descriptor = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw CofferError(.system, "cannot create \(log)") }
    defer { close(descriptor) }
    let clock = ContinuousClock(), start = clock.now
    let child = try ChildProcess(executable: coffer, arguments: arguments, stdout: descriptor, stderr: descriptor)
    _ = child.wait()
    let elapsed = clock.now - start
    guard child.terminationStatus == 0 else {
        throw CofferError(.system, "\(name) exited with \(child.terminationStatus): \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

// The broker, its resources and policy, the volume and the image.
let port = try shell("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'")
    .trimmingCharacters(in: .whitespacesAndNewlines)
let url = "https://127.0.0.1:\(port)"
try shell("'\(coffer)' kbs admin-token --key admin.pem > /dev/null")
let broker = Process()
broker.executableURL = URL(fileURLWithPath: coffer)
broker.arguments = ["kbs", "serve", "--dev", "--listen", "127.0.0.1:\(port)", "--home", home, "--admin-key", "\(work)/admin.pem.pub"]
broker.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
broker.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
broker.standardError = FileHandle(forWritingAtPath: "/dev/null")
try broker.run()
defer {
    broker.terminate()
    broker.waitUntilExit()
    _ = try? shell("'\(coffer)' volume rm provision-bench > /dev/null 2>&1")
    try? FileManager.default.removeItem(atPath: work)
}
try shell("for i in $(seq 100); do [ -f '\(home)/kbs/tls.crt' ] && break; sleep 0.1; done; sleep 0.5")
let admin = "--url \(url) --key admin.pem --cacert '\(home)/kbs/tls.crt'"
// The broker shares the launcher's home (development mode on one machine: it trusts that home's launcher key).
let confidential = ["--kbs", url, "--kbs-key", "\(home)/kbs/signing.pub", "--kbs-cert", "\(home)/kbs/tls.crt"]
try "int main(void) { return 0; }\n".write(toFile: "\(work)/true.c", atomically: true, encoding: .utf8)
try shell("""
    gcc -static -O2 -o true true.c
    '\(coffer)' build --no-sign --binary true:/bin/true --entrypoint /bin/true -t provision-bench:true > /dev/null 2>&1
    head -c 32 /dev/urandom > secret-a && head -c 32 /dev/urandom > secret-b && head -c 96 /dev/urandom > volume.key
    '\(coffer)' kbs admin put-resource \(admin) --resource bench/app/a --file secret-a > /dev/null
    '\(coffer)' kbs admin put-resource \(admin) --resource bench/app/b --file secret-b > /dev/null
    '\(coffer)' kbs admin put-resource \(admin) --resource bench/volume/data --file volume.key > /dev/null
    '\(coffer)' volume rm provision-bench > /dev/null 2>&1 || true
    '\(coffer)' volume create provision-bench --size 64M --key kbs:///bench/volume/data > /dev/null
    """)
let provisioning = confidential + ["--secret", "kbs:///bench/app/a", "--secret", "kbs:///bench/app/b", "-v", "provision-bench:/data"]
try shell("'\(coffer)' measure --agent '\(agent)' \(provisioning.map { "'\($0)'" }.joined(separator: " ")) --format policy provision-bench:true > policy.json")
try shell("'\(coffer)' kbs admin set-policy \(admin) --file policy.json > /dev/null")

struct Contender { var name: String; var arguments: [String] }
let contenders = [
    Contender(name: "plain", arguments: ["run", "--rm", "--agent", agent, "provision-bench:true"]),
    Contender(name: "confidential", arguments: ["run", "--rm", "--agent", agent] + provisioning + ["provision-bench:true"]),
]
print("\(runs) runs each, alternating; the confidential run attests (sample evidence), fetches 2 secrets and a volume key, opens a 64 MiB volume")
let first = try contenders.map { try timed($0.name, $0.arguments) }
print("first run (not counted; the confidential one formats the volume): plain \(format(first[0])) s, confidential \(format(first[1])) s")

var times: [[Double]] = [[], []]
print("run   plain (s)   confidential (s)   overhead (s)")
for index in 1...runs {
    let order = index % 2 == 0 ? [1, 0] : [0, 1]
    for contender in order { times[contender].append(try timed(contenders[contender].name, contenders[contender].arguments)) }
    print("\(index)".padding(toLength: 6, withPad: " ", startingAt: 0) + format(times[0][index - 1]).padding(toLength: 12, withPad: " ", startingAt: 0)
        + format(times[1][index - 1]).padding(toLength: 19, withPad: " ", startingAt: 0) + format(times[1][index - 1] - times[0][index - 1]))
}
let overhead = median(times[1]) - median(times[0])
print("median: plain \(format(median(times[0]))) s, confidential \(format(median(times[1]))) s, overhead \(format(overhead)) s, ratio \(format(median(times[1]) / median(times[0])))x (goal: overhead at most 0.30 s: \(overhead <= 0.30 ? "met" : "not met"))")

// Where the guest's time goes: the agent's own account, from the console of one kept run.
_ = try timed("kept", ["run", "--name", "provision-bench", "--agent", agent] + provisioning + ["provision-bench:true"])
let console = try shell("'\(coffer)' logs --console provision-bench; '\(coffer)' rm provision-bench > /dev/null")
print("the agent's account of one confidential run (console):")
for line in console.split(whereSeparator: \.isNewline) where line.contains("coffer-agent:") { print("  \(line)") }

struct TCB: Decodable {
    struct Userspace: Decodable { var bytes: Int; var goalBytes: Int }
    var guestUserspace: Userspace
}
let tcb = try JSONDecoder().decode(TCB.self, from: Data(try shell("'\(coffer)' tcb --format json --agent '\(agent)' provision-bench:true").utf8))
let userspace = tcb.guestUserspace
print("guest userspace (agent with the broker client and crypto, modules): \(format(Double(userspace.bytes) / 1e6, 1)) MB (goal at most \(userspace.goalBytes / 1_000_000) MB: \(userspace.bytes <= userspace.goalBytes ? "met" : "not met"))")
