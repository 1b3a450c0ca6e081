// runtime-bench: container start-to-exit time, `coffer-runtime run` against `runc run` on the same
// busybox bundle, alternating runs in one program run (A/B in the same conditions). With a PAL
// path it also times an enclave container through that PAL (the reference PAL: SGX simulation),
// for information: it has no runc counterpart.
//
// Usage: runtime-bench COFFER_RUNTIME [RUNS] [PAL]   (default RUNS 50)
import CofferCore
import Foundation

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Runs a command to its end with output discarded; returns its wall time in seconds.
func timed(_ executable: String, _ arguments: [String]) throws -> Double {
    let start = now()
    let child = try ChildProcess(executable: executable, arguments: arguments)
    child.wait()
    let elapsed = now() - start
    guard child.exitCode == 0 else { throw CofferError(.system, "\(executable) \(arguments.joined(separator: " ")) failed") }
    return elapsed
}

func summary(_ times: [Double]) -> (mean: Double, median: Double) {
    let sorted = times.sorted()
    let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    return (times.reduce(0, +) / Double(times.count), median)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: runtime-bench COFFER_RUNTIME [RUNS] [PAL]\n".utf8))
    exit(2)
}
let coffer = arguments[1]
let runs = arguments.count > 2 ? Int(arguments[2]) ?? 50 : 50
let pal = arguments.count > 3 ? arguments[3] : nil
guard let runc = ChildProcess.locate("runc"), let busybox = ChildProcess.locate("busybox") else {
    FileHandle.standardError.write(Data("runtime-bench needs runc and busybox (scripts/install-deps)\n".utf8))
    exit(2)
}

let work = "/tmp/runtime-bench-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: work) }
let bundle = work + "/bundle", enclaveBundle = work + "/enclave", root = work + "/root"
for directory in [bundle + "/rootfs/bin", enclaveBundle] {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
}
try FileManager.default.copyItem(atPath: busybox, toPath: bundle + "/rootfs/bin/busybox")
try FileManager.default.createSymbolicLink(atPath: bundle + "/rootfs/bin/true", withDestinationPath: "busybox")
_ = try timed(runc, ["spec", "--bundle", bundle])
var config = try String(contentsOfFile: bundle + "/config.json", encoding: .utf8)
config = config.replacingOccurrences(of: "\"terminal\": true", with: "\"terminal\": false")
    .replacingOccurrences(of: "\"sh\"", with: "\"/bin/true\"")
try config.write(toFile: bundle + "/config.json", atomically: true, encoding: .utf8)
if let pal {
    let enclaveConfig = config.replacingOccurrences(of: "\"TERM=xterm\"", with: "\"TERM=xterm\", \"ENCLAVE_TYPE=intelSgx\", \"ENCLAVE_RUNTIME_PATH=\(pal)\"")
        .replacingOccurrences(of: "\"path\": \"rootfs\"", with: "\"path\": \"\(bundle)/rootfs\"")
    try enclaveConfig.write(toFile: enclaveBundle + "/config.json", atomically: true, encoding: .utf8)
}

print("runtime-bench: \(runs) alternating runs of `run` (busybox /bin/true), runc \(runc), coffer-runtime \(coffer)")
var runcTimes: [Double] = [], cofferTimes: [Double] = [], enclaveTimes: [Double] = []
// One warm-up each (page cache, first exec of each binary), not counted.
_ = try timed(runc, ["--root", root, "run", "--bundle", bundle, "warm-runc"])
_ = try timed(coffer, ["--root", root, "run", "--bundle", bundle, "warm-coffer"])
for index in 0..<runs {
    // Alternate which goes first, so neither always follows the other.
    let order = index % 2 == 0 ? [true, false] : [false, true]
    for useRunc in order {
        let id = "\(useRunc ? "r" : "c")\(index)"
        let time = try timed(useRunc ? runc : coffer, ["--root", root, "run", "--bundle", bundle, id])
        if useRunc { runcTimes.append(time) } else { cofferTimes.append(time) }
    }
    if pal != nil {
        enclaveTimes.append(try timed(coffer, ["--root", root, "run", "--bundle", enclaveBundle, "e\(index)"]))
    }
}
let r = summary(runcTimes), c = summary(cofferTimes)
func ms(_ seconds: Double) -> String { String(format: "%7.2f ms", seconds * 1000) }
print("                         mean        median")
print("runc run            \(ms(r.mean))  \(ms(r.median))")
print("coffer-runtime run  \(ms(c.mean))  \(ms(c.median))")
print(String(format: "ratio coffer/runc     %.3fx      %.3fx   (goal <= 1.15x)", c.mean / r.mean, c.median / r.median))
if !enclaveTimes.isEmpty {
    let e = summary(enclaveTimes)
    print("enclave (reference PAL) \(ms(e.mean))  \(ms(e.median))   (information: PAL host, ldd, bind mounts)")
}
