import CofferSys
import CofferWire
import Glibc

/// The guest agent: PID 1 of every Coffer VM.
///
/// This slice brings the guest up to the point where the host can talk to it: pseudo file
/// systems, kernel modules, the agent channel, a `ready` frame; then it powers the VM off.
public enum Agent {
    /// The virtio-serial port name the launcher gives the agent channel.
    public static let portName = "coffer.agent"

    /// Runs the boot sequence and powers off. Any failure is written to the console (which the
    /// launcher quotes when the guest never checks in) before powering off.
    public static func main() -> Never {
        let console = Console()
        let started = bootNanoseconds()
        do {
            try BootSequence.mountPseudoFileSystems()
            let modules = try BootSequence.loadModules()
            let loaded = bootNanoseconds()
            let port = try AgentPort.open(named: portName)
            defer { port.close() }
            let ready = Ready(bootNanoseconds: bootNanoseconds(), modulesLoaded: UInt16(clamping: modules))
            try port.writeAll(ready.frame.encoded())
            console.log(
                "ready after \(ready.bootNanoseconds / 1_000_000) ms: started at \(started / 1_000_000) ms, "
                    + "\(modules) modules in \((loaded &- started) / 1_000_000) ms, port in \((ready.bootNanoseconds &- loaded) / 1_000_000) ms")
        } catch {
            console.log("boot failed: \(error)")
        }
        let refusal = Power.off()
        console.log("\(refusal)")
        exit(1)
    }
}

/// The kernel's console, which init inherits as file descriptors 0, 1 and 2.
struct Console {
    func log(_ message: String) {
        let line = Array("coffer-agent: \(message)\n".utf8)
        try? FileDescriptor(rawValue: 2).writeAll(line)
    }
}
