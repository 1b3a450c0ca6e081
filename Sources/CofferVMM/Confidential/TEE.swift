/// The hardware trusted execution environments Coffer launches guests in.
public enum TEE: String, Sendable, Equatable, Codable, CaseIterable {
    case tdx
    case snp

    /// The name users read.
    public var displayName: String {
        switch self {
        case .tdx: "Intel TDX"
        case .snp: "AMD SEV-SNP"
        }
    }

    /// The QEMU object that makes the guest confidential (`-object help` lists it).
    public var qemuObject: String {
        switch self {
        case .tdx: "tdx-guest"
        case .snp: "sev-snp-guest"
        }
    }

    /// The first QEMU release with `qemuObject` (QEMU's qapi/qom.json: sev-snp-guest 9.1, tdx-guest 10.1).
    public var minimumQEMU: QEMUVersion {
        switch self {
        case .tdx: QEMUVersion(major: 10, minor: 1)
        case .snp: QEMUVersion(major: 9, minor: 1)
        }
    }

    /// The KVM module parameter that says whether the host kernel offers this TEE to guests.
    public var kvmParameter: String {
        switch self {
        case .tdx: "/sys/module/kvm_intel/parameters/tdx"
        case .snp: "/sys/module/kvm_amd/parameters/sev_snp"
        }
    }

    /// The first host kernel with KVM support for this TEE (upstream Linux).
    public var minimumHostKernel: String {
        switch self {
        case .tdx: "6.16"
        case .snp: "6.11"
        }
    }

    /// The guest kernel option without which the kernel cannot run as this TEE's guest.
    public var guestKernelOption: String {
        switch self {
        case .tdx: "CONFIG_INTEL_TDX_GUEST"
        case .snp: "CONFIG_AMD_MEM_ENCRYPT"
        }
    }

    /// The configfs-tsm `provider` of this TEE's guest driver (Linux Documentation/ABI/testing/configfs-tsm-report).
    public var tsmProvider: String {
        switch self {
        case .tdx: "tdx_guest"
        case .snp: "sev_guest"
        }
    }
}

/// A QEMU release, as `qemu-system-x86_64 -version` prints it ("QEMU emulator version 7.2.19 (Debian ...)").
public struct QEMUVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var micro: Int

    public init(major: Int, minor: Int, micro: Int = 0) {
        self.major = major
        self.minor = minor
        self.micro = micro
    }

    /// The version in `-version`'s first line, nil when it names none.
    public init?(versionOutput: String) {
        let marker = "QEMU emulator version "
        guard let range = versionOutput.range(of: marker) else { return nil }
        let word = versionOutput[range.upperBound...].prefix { $0 == "." || $0.isNumber }
        let parts = word.split(separator: ".").map { Int($0) }
        guard parts.count >= 2, parts.count <= 3, let major = parts[0], let minor = parts[1] else { return nil }
        let micro = parts.count == 3 ? parts[2] : 0
        guard let micro else { return nil }
        self.init(major: major, minor: minor, micro: micro)
    }

    public static func < (a: QEMUVersion, b: QEMUVersion) -> Bool {
        (a.major, a.minor, a.micro) < (b.major, b.minor, b.micro)
    }

    public var description: String { micro == 0 ? "\(major).\(minor)" : "\(major).\(minor).\(micro)" }
}
