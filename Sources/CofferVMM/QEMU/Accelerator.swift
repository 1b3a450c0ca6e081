import Foundation

/// How QEMU executes guest code.
public enum Accelerator: String, Sendable, CaseIterable, Codable {
    /// Hardware virtualization through /dev/kvm.
    case kvm
    /// QEMU's software emulation (tiny code generator): slow, but works everywhere.
    case tcg
}

/// What the user asked for: a fixed accelerator, or a probe.
public enum AcceleratorRequest: Sendable, Equatable {
    case auto
    case fixed(Accelerator)

    /// Parses `auto`, `kvm` or `tcg` (the `--accel` option).
    public init?(_ text: String) {
        if text == "auto" { self = .auto } else if let fixed = Accelerator(rawValue: text) { self = .fixed(fixed) } else { return nil }
    }
}

/// The host facts the accelerator choice depends on, gathered once.
public struct HostFacts: Sendable, Equatable {
    /// /dev/kvm exists and this process can open it read-write.
    public var kvmUsable: Bool
    /// The KVM module is PVM (`/sys/module/kvm_pvm`): KVM nested in a guest by paravirtualization,
    /// on which stock guest kernels hang during boot.
    public var kvmIsPVM: Bool
    /// The host's TSC frequency in kHz when the host kernel knows it exactly (`tsc_known_freq`).
    public var tscKilohertz: Int?

    public init(kvmUsable: Bool, kvmIsPVM: Bool, tscKilohertz: Int?) {
        self.kvmUsable = kvmUsable
        self.kvmIsPVM = kvmIsPVM
        self.tscKilohertz = tscKilohertz
    }

    /// This machine's facts.
    public static func probe() -> HostFacts {
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        if fd >= 0 { close(fd) }
        return HostFacts(
            kvmUsable: fd >= 0, kvmIsPVM: FileManager.default.fileExists(atPath: "/sys/module/kvm_pvm"),
            tscKilohertz: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).flatMap(HostFacts.tscKilohertz(cpuinfo:)))
    }

    /// The first CPU's "cpu MHz" in kHz, only when its flags include `tsc_known_freq`: then the
    /// host kernel took the TSC rate from CPUID or the hypervisor and "cpu MHz" is that rate; on
    /// other hosts "cpu MHz" follows frequency scaling and says nothing about the TSC.
    public static func tscKilohertz(cpuinfo: String) -> Int? {
        let firstCPU = cpuinfo.components(separatedBy: "\n\n").first ?? ""
        var megahertz: String?
        var known = false
        for line in firstCPU.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "cpu MHz" { megahertz = parts[1] }
            if parts[0] == "flags" { known = parts[1].split(separator: " ").contains("tsc_known_freq") }
        }
        guard known, let megahertz, let value = Double(megahertz), value > 0, value < 100_000 else { return nil }
        return Int((value * 1000).rounded())
    }
}

/// The accelerator chosen and why, in a sentence a user sees with `--accel auto`.
public struct AcceleratorChoice: Sendable, Equatable {
    public var accelerator: Accelerator
    public var reason: String

    /// Chooses by probing, not by the mere presence of /dev/kvm.
    public static func choose(_ request: AcceleratorRequest, host: HostFacts) -> AcceleratorChoice {
        switch request {
        case .fixed(let accelerator):
            return AcceleratorChoice(accelerator: accelerator, reason: "\(accelerator.rawValue) as requested")
        case .auto:
            if !host.kvmUsable {
                return AcceleratorChoice(accelerator: .tcg, reason: "tcg: /dev/kvm is absent or not accessible")
            }
            if host.kvmIsPVM {
                return AcceleratorChoice(
                    accelerator: .tcg,
                    reason: "tcg: /dev/kvm is PVM nested KVM (/sys/module/kvm_pvm), on which stock guest kernels hang")
            }
            return AcceleratorChoice(accelerator: .kvm, reason: "kvm: /dev/kvm is usable")
        }
    }
}
