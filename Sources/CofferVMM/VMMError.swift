import CofferCore
import CofferWire

/// What can go wrong preparing or running a micro-VM, in words a user can act on.
public enum VMMError: Error, Sendable, CustomStringConvertible, CofferErrorConvertible {
    /// A host tool is not installed.
    case missingTool(String, package: String)
    /// A host tool ran and failed.
    case toolFailed(String, status: Int32, output: String)
    /// The kernel package or its unpacked tree is not what Coffer expects.
    case kernelPackage(String)
    /// A kernel module is neither built in nor shipped, or its metadata does not parse.
    case kernelModule(String)
    /// A file Coffer needs to read or write.
    case file(path: String, reason: String)
    /// A value that cannot be passed to QEMU (a path with a comma, a socket path too long).
    case invalidConfiguration(String)
    /// The guest did not check in before the deadline.
    case bootTimeout(seconds: Double, consoleTail: String)
    /// The guest checked in but did not power off before the deadline.
    case powerOffTimeout(seconds: Double, consoleTail: String)
    /// QEMU exited before the guest checked in.
    case vmExited(status: Int32, consoleTail: String, qemuOutput: String)
    /// The guest sent something the launcher cannot accept.
    case protocolError(String)
    /// The agent reported that it could not set up the root or start the workload.
    case agentFailure(AgentFailure)
    /// No VM has this name or id.
    case noSuchVM(String)
    /// The VM is not in a state that allows the request.
    case wrongState(String)
    /// A TDX or SEV-SNP launch was asked for and cannot be had: what it needs (`ConfidentialHost.missing`).
    case teeUnavailable(TEE, missing: [String])

    public var description: String {
        switch self {
        case .missingTool(let tool, let package):
            "\(tool) is not installed: install the Debian package \(package) (scripts/install-deps does)"
        case .toolFailed(let tool, let status, let output):
            "\(tool) failed with status \(status)" + (output.isEmpty ? "" : ": \(output)")
        case .kernelPackage(let reason): "guest kernel: \(reason)"
        case .kernelModule(let reason): "guest kernel module: \(reason)"
        case .file(let path, let reason): "\(path): \(reason)"
        case .invalidConfiguration(let reason): "VM configuration: \(reason)"
        case .bootTimeout(let seconds, let tail):
            "the guest did not check in within \(formatSeconds(seconds)) s; it was killed. Last console lines:\n\(tail)"
        case .powerOffTimeout(let seconds, let tail):
            "the guest checked in but did not power off within \(formatSeconds(seconds)) s; it was killed. Last console lines:\n\(tail)"
        case .vmExited(let status, let tail, let qemu):
            "QEMU exited with status \(status) before the guest checked in."
                + (qemu.isEmpty ? "" : " QEMU said: \(qemu)") + " Last console lines:\n\(tail)"
        case .protocolError(let reason): "agent channel: \(reason)"
        case .noSuchVM(let reference): "no VM named \(reference) (see `coffer ps -a`)"
        case .wrongState(let reason): reason
        case .teeUnavailable(let tee, let missing):
            "\(tee.displayName) cannot be had here, and Coffer does not start a VM that is not confidential in its place:\n"
                + missing.map { "  - \($0)" }.joined(separator: "\n")
        case .agentFailure(let failure):
            switch failure.reason {
            case .integrity: "integrity error in the guest: \(failure.message)"
            case .root, .network, .baseFileSystems, .modules, .channel, .commandLine, .execPolicy, .workload, .overlay, .workloadFileSystems, .initData,
                 .broker, .secrets, .volume:
                "the guest's start-up failed \(failure.reason.startupStep ?? "") (reason \(failure.reason.name)): \(failure.message)"
            case .start: "the guest could not start \(failure.id.rawValue > 1 ? "the program" : "the workload"): \(failure.message)"
            case .protocolViolation: "the guest refused the launcher's request: \(failure.message)"
            case .denied: "the guest refused: \(failure.message)"
            case .vm: failure.message
            }
        }
    }

    public var cofferError: CofferError {
        switch self {
        case .missingTool, .noSuchVM: CofferError(.notFound, description)
        case .wrongState: CofferError(.invalidInput, description)
        case .bootTimeout, .powerOffTimeout: CofferError(.timeout, description)
        case .invalidConfiguration: CofferError(.invalidInput, description)
        case .kernelModule, .kernelPackage, .teeUnavailable: CofferError(.unsupported, description)
        case .protocolError: CofferError(.integrity, description)
        case .agentFailure(let failure): CofferError(failure.reason == .integrity ? .integrity : .system, description)
        default: CofferError(.system, description)
        }
    }
}

func formatSeconds(_ seconds: Double) -> String {
    let tenths = Int((seconds * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}
