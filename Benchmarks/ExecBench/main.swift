import CofferCore
import CofferVMM
import CofferWire
import Foundation

// exec round-trip latency in a running VM: `coffer exec VM /bin/true` as a user runs it (process
// start of the CLI included), and the same request sent straight to the VM's monitor over its
// control socket (start → started → exit), which is what the host-guest channel and the agent
// cost. Usage: exec-bench COFFER HOME IMAGE [RUNS]
let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: exec-bench COFFER HOME IMAGE [RUNS]\n".utf8))
    exit(2)
}
let coffer = arguments[1], home = arguments[2], image = arguments[3]
let runs = arguments.count > 4 ? Int(arguments[4]) ?? 50 : 50
let name = "exec-bench-\(getpid())"
setenv("COFFER_HOME", home, 1)

func spawnAndWait(_ argv: [String]) throws -> Int32 {
    let process = try ChildProcess(executable: coffer, arguments: argv)
    let status = process.wait()
    return status
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func summary(_ label: String, _ samples: [Double]) -> String {
    let sorted = samples.sorted()
    let median = sorted[sorted.count / 2], p90 = sorted[min(sorted.count - 1, sorted.count * 9 / 10)]
    let mean = samples.reduce(0, +) / Double(samples.count)
    return "\(label.padding(toLength: 34, withPad: " ", startingAt: 0)) mean \(String(format: "%7.2f", mean)) ms   median \(String(format: "%7.2f", median)) ms   p90 \(String(format: "%7.2f", p90)) ms"
}

let clock = ContinuousClock()
let bootStart = clock.now
guard try spawnAndWait(["run", "-d", "--name", name, image, "/bin/sleep", "3600"]) == 0 else {
    FileHandle.standardError.write(Data("exec-bench: coffer run -d failed\n".utf8))
    exit(1)
}
let detachedRun = milliseconds(clock.now - bootStart)
defer { _ = try? spawnAndWait(["rm", "-f", name]) }
let entry = try VMStore(home: home).resolve(name)

var cli: [Double] = [], direct: [Double] = []
for round in 0..<runs {
    // Alternate which goes first, so neither always runs right after the other.
    for which in (round % 2 == 0 ? [0, 1] : [1, 0]) {
        let begun = clock.now
        if which == 0 {
            guard try spawnAndWait(["exec", name, "/bin/true"]) == 0 else { fatalError("coffer exec failed") }
            cli.append(milliseconds(clock.now - begun))
        } else {
            let client = try ControlClient(directory: entry.directory)
            try client.send(StartProcess(id: ProcessID(2), argv: ["/bin/true"], env: [], cwd: "/"))
            while true {
                let frame = try client.next()
                if frame.kind == .exit { break }
                if frame.kind == .failure {
                    let failure = try AgentFailure(frame)
                    fatalError("exec failed: \(failure.message)")
                }
            }
            direct.append(milliseconds(clock.now - begun))
        }
    }
}
print("exec-bench: \(runs) alternating rounds of /bin/true in one running VM (image \(image))")
print(summary("coffer exec VM /bin/true (CLI)", cli))
print(summary("control socket round trip", direct))
print("(information) coffer run -d, create to workload started: \(String(format: "%.0f", detachedRun)) ms")
