import CofferSys
import CofferWire
import Glibc

/// The guest agent: PID 1 of every Coffer VM.
///
/// Brings the guest up (pseudo file systems, kernel modules, the verity root when the command line
/// names one, the agent channel), checks in with `ready`, runs the workload the host's `start`
/// asks for, relays its output and exit, and powers the VM off.
public enum Agent {
    /// The virtio-serial port name the launcher gives the agent channel.
    public static let portName = "coffer.agent"

    /// Runs the boot sequence and the workload, then powers off. Any failure is sent to the host as
    /// a `failure` frame when the channel is open, and written to the console in any case (the
    /// launcher quotes it when the guest never checks in).
    public static func main() -> Never {
        let console = Console()
        let started = bootNanoseconds()
        var port: FileDescriptor?
        do {
            let booted = try BootSequence.run(GuestBootSystem(), channel: &port)
            let (channel, modules, loaded) = (booted.channel, booted.modulesLoaded, booted.modulesLoadedAt)
            let ready = Ready(bootNanoseconds: bootNanoseconds(), modulesLoaded: UInt16(clamping: modules))
            try BootSequence.step(.channel) { try channel.writeAll(ready.frame.encoded()) }
            console.log(
                "ready after \(ready.bootNanoseconds / 1_000_000) ms: started at \(started / 1_000_000) ms, "
                    + "\(modules) modules in \((loaded &- started) / 1_000_000) ms, port and root in \((ready.bootNanoseconds &- loaded) / 1_000_000) ms")
            if booted.root != nil {
                var loop = HostRequestLoop(
                    port: channel, permission: booted.permission, workload: booted.workload, initData: booted.initData, brokerPin: booted.brokerPin,
                    console: console, evidence: TSMEvidenceSource(tee: TEEEvidence(expected: booted.tee)))
                let exit = try loop.serve()
                /// A tampered block the workload read is reported as such, not as whatever status
                /// the workload chose after seeing EIO.
                if try VerityRoot.corruptionDetected() {
                    throw AgentFailure(
                        .integrity,
                        "the root file system failed dm-verity verification while the workload ran (it \(exit)): a block read from the image does not match its measured root hash",
                        id: .main)
                }
                try channel.writeAll(ProcessEnded(.main, exit).frame.encoded())
                console.log("workload \(exit)")
            }
        } catch {
            let failure = error as? AgentFailure ?? AgentFailure(.start, "\(error)")
            console.log("failed" + (failure.reason.startupStep.map { " \($0)" } ?? "") + " (reason \(failure.reason.name)): \(failure.message)")
            if let port { try? port.writeAll(failure.frame.encoded()) }
        }
        let refusal = Power.off()
        console.log("\(refusal)")
        exit(1)
    }
}

/// The kernel's console, which init inherits as file descriptors 0, 1 and 2.
struct Console {
    /// Tests read what the agent logged here; the guest writes to the console (fd 2) only.
    var transcript: ConsoleTranscript?

    func log(_ message: String) {
        let line = Array("coffer-agent: \(message)\n".utf8)
        if let transcript { transcript.lines.append(message) } else { try? FileDescriptor(rawValue: 2).writeAll(line) }
    }
}

/// The lines a test's `Console` logged.
final class ConsoleTranscript: @unchecked Sendable {
    var lines: [String] = []
}
