import CofferCore
import CofferWire
#if canImport(Glibc)
import Glibc
#endif

/// The host-guest protocol's parsers, which each side runs on what the other sends: the frame
/// decoder, every message, and the kernel command-line arguments the agent reads. A parser may
/// throw; it must not trap, hang or touch memory it does not own. (No Foundation: the same code
/// runs in the guest.)
enum WireParsers {
    static func run(_ bytes: [UInt8]) {
        guard let mode = bytes.first else { return }
        let stream = bytes.dropFirst()
        // The first byte picks how the stream is cut: 0 one piece, otherwise pieces of 1...mode
        // bytes in a sequence it seeds, so frames straddle appends at every offset.
        var decoder = FrameDecoder()
        var state = UInt32(mode) | 0x9E37_7900
        var offset = stream.startIndex
        stream: while offset < stream.endIndex {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            let size = mode == 0 ? stream.count : 1 + Int(state % UInt32(mode))
            let end = min(offset + size, stream.endIndex)
            decoder.append(stream[offset..<end])
            offset = end
            while true {
                let next: Frame?
                // A decoder that threw is abandoned, as the transport closes the stream.
                do { next = try decoder.next() } catch { break stream }
                guard let frame = next else { break }
                parseAll(frame)
            }
        }
        parseCommandLine(String(decoding: stream, as: UTF8.self))
    }

    /// Every message parser on one frame (the kind check is each parser's first step, so a frame
    /// is also given its payload under every kind). One line per parser.
    static func parseAll(_ frame: Frame) {
        for kind in [frame.kind, FrameKind.stdout, .stderr] {
            guard let output = try? ProcessOutput(Frame(kind, frame.payload)) else { continue }
            require(try? ProcessOutput(output.frame) == output, "ProcessOutput round trip")
        }
        for message in messages { message.check(frame) }
        parseCommandLine(String(decoding: frame.payload, as: UTF8.self))
    }

    /// Each WireMessage type (list them from Sources/CofferWire: `struct .*: WireMessage`).
    static let messages: [any FuzzedMessage.Type] = [
        Ready.self,
        StartProcess.self,
        StdinData.self,
        ProcessEnded.self,
        AgentFailure.self,
        SignalProcess.self,
        TerminalSize.self,
        ProcessStarted.self,
        GuestHostname.self,
        AttestRequest.self,
        GuestEvidence.self,
        InitDataMessage.self,
        BrokerRequest.self,
        BrokerResponse.self,
        SampleEvidenceRequest.self,
        SampleEvidenceResponse.self,
        AttachRequest.self,
        StopRequest.self,
    ]

    /// The measured kernel command line's arguments; what parses must survive its own encoding.
    static func parseCommandLine(_ text: String) {
        guard let line = try? KernelCommandLine(text) else { return }
        if let policy = try? ExecPolicy.parse(commandLine: line) {
            require(try? ExecPolicy.parse(commandLine: KernelCommandLine(policy.kernelArgument)) == policy, "ExecPolicy round trip")
        }
        if let binding = try? WorkloadBinding.parse(commandLine: line) {
            require(try? WorkloadBinding.parse(commandLine: KernelCommandLine(binding.kernelArgument)) == binding, "WorkloadBinding round trip")
        }
    }

    /// A finding: libFuzzer saves the input on the trap.
    static func require(_ condition: Bool?, _ what: String) {
        guard condition != true else { return }
        printError("wire-fuzz: \(what) failed")
        abort()
    }

    /// One of each message, framed and concatenated, for the seed corpus.
    static var seedFrames: [[Frame]] {
        let start = StartProcess(id: ProcessID(2), argv: ["/bin/sh", "-c", "echo hi"], env: ["PATH=/bin"], cwd: "/", user: "1000:1000",
                                 tty: true, stdin: true, rows: 40, cols: 120)
        return [
            [Ready(bootNanoseconds: 123_456_789, modulesLoaded: 3).frame, StartProcess(argv: ["/app"], env: [], cwd: "/").frame],
            [start.frame, StdinData(ProcessID(2), Array("input".utf8)).frame, StdinData(ProcessID(2), []).frame],
            [ProcessOutput(.main, .stdout, Array("out\n".utf8)).frame, ProcessOutput(.main, .stderr, Array("err\n".utf8)).frame],
            [ProcessStarted(ProcessID(2), pid: 42).frame, ProcessEnded(.main, .exited(3)).frame, ProcessEnded(ProcessID(2), .signaled(9)).frame],
            [AgentFailure(.start, "no such file", id: .main).frame, AgentFailure(.integrity, "verity").frame],
            [SignalProcess(.main, signal: 15).frame, TerminalSize(.main, rows: 24, cols: 80).frame, GuestHostname("guest").frame],
            [AttestRequest(nonce: [UInt8](repeating: 7, count: 32)).frame, GuestEvidence(.snpReport, [UInt8](repeating: 1, count: 32)).frame,
             GuestEvidence(.none, Array("no tsm".utf8)).frame],
            [AttachRequest(stdin: true).frame, StopRequest(seconds: 10).frame],
            [InitDataMessage(document: Array("version = \"0.1.0\"\n".utf8)).frame,
             BrokerRequest(id: 1, method: .post, path: "/kbs/v0/auth", body: Array("{}".utf8)).frame,
             BrokerResponse(id: 1, status: 200, cookie: "c", signature: "s", body: Array("{}".utf8)).frame,
             SampleEvidenceRequest(reportData: [UInt8](repeating: 3, count: 64)).frame, SampleEvidenceResponse(evidence: [1, 2]).frame],
        ]
    }

    /// Kernel command lines with each argument form.
    static var seedCommandLines: [String] {
        let prefixes = ExecPolicy.exact([ExecPolicy.Entry(argv: ["/bin/ls"]), ExecPolicy.Entry(argv: ["/usr/bin/env", "-i"], trailingArguments: true, env: ["TERM"])]).kernelArgument
        let workload = WorkloadBinding(StartProcess(argv: ["/app"], env: ["A=1"], cwd: "/")).kernelArgument
        return ["console=hvc0 \(prefixes) \(workload) quiet", "coffer.exec=allow", "coffer.exec=deny coffer.exec=allow"]
    }

    /// Writes the seeds into `directory` (which exists); the first byte of each is a chunking mode.
    static func writeSeeds(_ directory: String) -> Int32 {
        var seeds: [[UInt8]] = []
        for (index, frames) in seedFrames.enumerated() {
            var stream: [UInt8] = []
            for frame in frames { stream += (try? frame.encoded()) ?? [] }
            for mode: UInt8 in [0, 1, UInt8(3 + index), 64] { seeds.append([mode] + stream) }
        }
        for line in seedCommandLines { seeds.append([0] + Array(line.utf8)) }
        for (index, seed) in seeds.enumerated() {
            guard let file = fopen("\(directory)/wire-seed-\(index)", "wb") else { return 2 }
            _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
        print("wire-fuzz: wrote \(seeds.count) seeds to \(directory)")
        return 0
    }
}

/// A message parser the fuzzer drives: parse, and what parses must re-encode to the same message.
protocol FuzzedMessage: WireMessage {}
extension FuzzedMessage {
    static func check(_ frame: Frame) {
        for kind in [frame.kind, Self.kind] {
            guard let message = try? Self(Frame(kind, frame.payload)) else { continue }
            WireParsers.require(try? Self(message.frame) == message, "\(Self.self) round trip")
        }
    }
}
extension Ready: FuzzedMessage {}
extension StartProcess: FuzzedMessage {}
extension StdinData: FuzzedMessage {}
extension ProcessEnded: FuzzedMessage {}
extension AgentFailure: FuzzedMessage {}
extension SignalProcess: FuzzedMessage {}
extension TerminalSize: FuzzedMessage {}
extension ProcessStarted: FuzzedMessage {}
extension GuestHostname: FuzzedMessage {}
extension AttestRequest: FuzzedMessage {}
extension GuestEvidence: FuzzedMessage {}
extension InitDataMessage: FuzzedMessage {}
extension BrokerRequest: FuzzedMessage {}
extension BrokerResponse: FuzzedMessage {}
extension SampleEvidenceRequest: FuzzedMessage {}
extension SampleEvidenceResponse: FuzzedMessage {}
extension AttachRequest: FuzzedMessage {}
extension StopRequest: FuzzedMessage {}

/// A line on standard error (no Foundation, and C's `stderr` is not concurrency-safe in Swift 6).
func printError(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Reads a whole file (the replay build), without Foundation.
func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

/// `--write-seeds DIR` in either build writes the seed corpus and exits.
func seedDirectory(_ arguments: [String]) -> String? {
    arguments.count == 3 && arguments[1] == "--write-seeds" ? arguments[2] : nil
}

#if COFFER_FUZZ
import CLibFuzzer

/// libFuzzer's per-input callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // Sound: libFuzzer passes `size` readable bytes at `data` for the duration of this call,
    // and they are copied into an Array before use.
    guard let data, size > 0 else { return 0 }
    WireParsers.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// The entry point in the fuzzing build (see Fuzz/EvidenceFuzz: SwiftPM's `main=wire_fuzz_main`).
@_cdecl("wire_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if let directory = seedDirectory(CommandLine.arguments) { return WireParsers.writeSeeds(directory) }
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without the fuzzer: replays the files named on the command line through the same parsers,
/// or writes the seed corpus (`--write-seeds DIR`).
@main
enum WireReplay {
    static func main() {
        if let directory = seedDirectory(CommandLine.arguments) { exit(WireParsers.writeSeeds(directory)) }
        for path in CommandLine.arguments.dropFirst() {
            guard let bytes = readFile(path) else {
                printError("wire-fuzz: cannot read \(path)")
                exit(2)
            }
            WireParsers.run(bytes)
            print("wire-fuzz: \(path): parsed without a crash")
        }
    }
}
#endif
