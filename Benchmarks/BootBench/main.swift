// boot-bench: a cold `coffer run IMAGE /bin/true` against a bare QEMU boot of the same kernel, in
// one run, alternating.
//
// - bare: `qemu-system-x86_64` with Coffer's accelerator choice, machine flags and kernel command
//   line (taken from `coffer tcb`), an initramfs holding only a static C /init that calls
//   reboot(RB_POWER_OFF); timed from spawn to QEMU's exit.
// - coffer: the `coffer` binary given (release build) running a static /bin/true in its own VM;
//   timed from spawn to coffer's exit. The initramfs cache is warm after the first run, which is
//   reported on its own.
//
// Prints both medians, their ratio (the issue's goal: at most 1.10x) and the guest userspace size
// (goal: at most 20 MB), then the phases of one `coffer run --verbose`.
//
// With OWN_KERNEL (Coffer's kernel, `coffer kernel build`; issue 13) there are three sides: the bare
// boot of HOME's default kernel (Debian's cloud kernel), the bare boot of OWN_KERNEL, and
// `coffer run --kernel OWN_KERNEL`; the ratios against each (goals: at most 0.75x and 1.10x), and
// the guest TCB (kernel + initramfs) on each kernel (goal: Coffer's at most half of Debian's).
//
// Usage: boot-bench COFFER HOME [RUNS] [OWN_KERNEL]   (HOME must hold a kernel: `coffer setup --home HOME`)
import CofferCore
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: boot-bench COFFER HOME [RUNS] [OWN_KERNEL]\n".utf8))
    exit(2)
}
let coffer = arguments[1], home = arguments[2]
let runs = arguments.count > 3 ? max(1, Int(arguments[3]) ?? 7) : 7
let ownKernel = arguments.count > 4 ? arguments[4] : nil
let work = NSTemporaryDirectory() + "boot-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }

/// QEMU's machine and device flags for the bare boot: QEMUCommand's, without Coffer's devices
/// (agent port, disks). Keep in step with Sources/CofferVMM/QEMU/QEMUCommand.swift.
func bareArguments(accelerator: String, kernel: String, initramfs: String, commandLine: String, console: String) -> [String] {
    ["-M", QEMUMachine.options, "-accel", accelerator, "-cpu", accelerator == "kvm" ? "host" : "max",
     "-m", "256", "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
     "-kernel", kernel, "-initrd", initramfs, "-append", commandLine, "-serial", "file:\(console)"]
}

enum QEMUMachine {
    static let options = "microvm,x-option-roms=off"
}

/// Runs a program with output to `log`; returns its exit status and wall time in seconds.
func timed(_ executable: String, _ arguments: [String], log: String) throws -> (Int32, Double) {
    let descriptor = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw CofferError(.system, "cannot create \(log)") }
    defer { close(descriptor) }
    let clock = ContinuousClock(), start = clock.now
    let child = try ChildProcess(executable: executable, arguments: arguments, stdout: descriptor, stderr: descriptor)
    _ = child.wait()
    let elapsed = clock.now - start
    return (child.terminationStatus, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// Runs a shell command line in `work`, failing the benchmark unless it succeeds; returns stdout.
@discardableResult
func shell(_ command: String, environment: [String: String] = [:]) throws -> String {
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

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

// The bare initramfs: one static program that powers the VM off.
try """
    #include <sys/reboot.h>
    #include <unistd.h>
    int main(void) { sync(); reboot(RB_POWER_OFF); return 0; }
    """.write(toFile: "\(work)/poweroff.c", atomically: true, encoding: .utf8)
try "int main(void) { return 0; }\n".write(toFile: "\(work)/true.c", atomically: true, encoding: .utf8)
try shell("""
    mkdir -p bare && gcc -static -O2 -o bare/init poweroff.c && gcc -static -O2 -o true true.c
    cd bare && echo init | cpio -o -H newc --quiet > ../bare.cpio
    """)

// The Coffer image and the launch `coffer run` will use, as `coffer tcb` lists it.
let environment = ["COFFER_HOME": home]
try shell("'\(coffer)' build --no-sign --binary true:/bin/true --entrypoint /bin/true -t boot-bench:true > /dev/null 2>&1", environment: environment)
struct TCB: Decodable {
    struct Kernel: Decodable { var path: String; var release: String }
    struct Userspace: Decodable { var bytes: Int; var goalBytes: Int }
    var accelerator: String
    var kernel: Kernel
    var commandLine: String
    var guestUserspace: Userspace
    var guestTCBBytes: Int
}
func readTCB(kernel: String?) throws -> TCB {
    let option = kernel.map { "--kernel '\($0)' " } ?? ""
    return try JSONDecoder().decode(
        TCB.self, from: Data(try shell("'\(coffer)' tcb --format json \(option)boot-bench:true", environment: environment).utf8))
}
let tcb = try readTCB(kernel: nil)
let ownTCB = try ownKernel.map { try readTCB(kernel: $0) }

setenv("COFFER_HOME", home, 1)
func bare(_ tcb: TCB, _ name: String) -> [String] {
    bareArguments(
        accelerator: tcb.accelerator, kernel: tcb.kernel.path, initramfs: "\(work)/bare.cpio", commandLine: tcb.commandLine,
        console: "\(work)/\(name)-console.log")
}
let qemu = ChildProcess.locate("qemu-system-x86_64") ?? "/usr/bin/qemu-system-x86_64"
let runArguments = ["run"] + (ownKernel.map { ["--kernel", $0] } ?? []) + ["boot-bench:true"]
print("kernel \(tcb.kernel.release)\(ownTCB.map { ", Coffer's kernel \($0.kernel.release) (\($0.kernel.path))" } ?? ""), accelerator \(tcb.accelerator), \(runs) runs each, alternating")
print("command line: \((ownTCB ?? tcb).commandLine)")

/// What is timed, each run: the reference first. Another contender (say, the round trip of an
/// exec into a running VM, once `coffer exec` exists) is one more entry here.
struct Contender {
    var name: String
    var executable: String
    var arguments: [String]
}
let contenders = [Contender(name: "bare", executable: qemu, arguments: bare(tcb, "bare"))]
    + (ownTCB.map { [Contender(name: "bare-own", executable: qemu, arguments: bare($0, "bare-own"))] } ?? [])
    + [Contender(name: "coffer", executable: coffer, arguments: runArguments)]

/// Runs `contender` once and returns its wall time; a failure stops the benchmark with its logs.
func measure(_ contender: Contender) throws -> Double {
    let log = "\(work)/\(contender.name).log"
    let (status, seconds) = try timed(contender.executable, contender.arguments, log: log)
    guard status == 0 else {
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw CofferError(.system, "\(contender.name) exited with \(status): \(output)")
    }
    return seconds
}

// First runs: the initramfs cache may be cold for coffer; they do not count in the medians.
let first = try contenders.map(measure)
print("first run (not counted): " + zip(contenders, first).map { "\($0.name) \(format($1)) s" }.joined(separator: ", "))

var times = [[Double]](repeating: [], count: contenders.count)
let last = contenders.count - 1
print("run   " + contenders.map { "\($0.name) (s)".padding(toLength: 14, withPad: " ", startingAt: 0) }.joined()
    + contenders.dropLast().map { "coffer/\($0.name)".padding(toLength: 18, withPad: " ", startingAt: 0) }.joined())
for index in 1...runs {
    // Alternate the order, so that neither always runs on a machine the other just warmed.
    let order = index % 2 == 0 ? Array(contenders.indices.reversed()) : Array(contenders.indices)
    for contender in order { times[contender].append(try measure(contenders[contender])) }
    let row = times.map { $0[index - 1] }
    print("\(index)".padding(toLength: 6, withPad: " ", startingAt: 0)
        + row.map { format($0).padding(toLength: 14, withPad: " ", startingAt: 0) }.joined()
        + row.dropLast().map { format(row[last] / $0).padding(toLength: 18, withPad: " ", startingAt: 0) }.joined())
}
let cofferMedian = median(times[last])
if ownTCB == nil {
    let ratio = cofferMedian / median(times[0])
    print("median: bare \(format(median(times[0]))) s, coffer run \(format(cofferMedian)) s, ratio \(format(ratio))x (goal at most 1.10x: \(ratio <= 1.10 ? "met" : "not met"))")
} else {
    let debian = cofferMedian / median(times[0]), own = cofferMedian / median(times[1])
    print("median: bare \(tcb.kernel.release) \(format(median(times[0]))) s, bare Coffer's kernel \(format(median(times[1]))) s, coffer run \(format(cofferMedian)) s")
    print("coffer run / bare Debian kernel: \(format(debian))x (goal at most 0.75x: \(debian <= 0.75 ? "met" : "not met"))")
    print("coffer run / bare Coffer's kernel: \(format(own))x (goal at most 1.10x: \(own <= 1.10 ? "met" : "not met"))")
}
let userspace = (ownTCB ?? tcb).guestUserspace
print("guest userspace (agent + modules): \(format(Double(userspace.bytes) / 1e6, 1)) MB (goal at most \(userspace.goalBytes / 1_000_000) MB: \(userspace.bytes <= userspace.goalBytes ? "met" : "not met"))")
if let ownTCB {
    let share = Double(ownTCB.guestTCBBytes) / Double(tcb.guestTCBBytes)
    print("guest TCB (kernel + initramfs): Coffer's kernel \(format(Double(ownTCB.guestTCBBytes) / 1e6, 1)) MB, \(tcb.kernel.release) with its modules "
        + "\(format(Double(tcb.guestTCBBytes) / 1e6, 1)) MB: \(format(share))x (goal at most 0.50x: \(share <= 0.5 ? "met" : "not met"))")
}

// Where coffer's time goes: its own phases, and the agent's view of the guest's boot.
let (_, _) = try timed(coffer, ["run", "--verbose"] + Array(runArguments.dropFirst()), log: "\(work)/verbose.log")
let verbose = (try? String(contentsOfFile: "\(work)/verbose.log", encoding: .utf8)) ?? ""
print("one coffer run --verbose:")
for line in verbose.split(separator: "\n") where line.contains("prepared") || line.contains("accelerator") {
    print("  \(line)")
}
