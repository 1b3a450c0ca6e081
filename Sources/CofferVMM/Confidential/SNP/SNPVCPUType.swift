/// The QEMU `-cpu` models an SEV-SNP guest is launched with, and the CPUID signature each puts in
/// RDX at reset, which enters every VMSA page and so the measurement. Family, model and stepping
/// are QEMU's (target/i386/cpu.c, builtin_x86_defs); the signature is CPUID Fn0000_0001_EAX as
/// AMD encodes it (CPUID Specification #25481): stepping [3:0], model [7:4], family [11:8],
/// extended model [19:16], extended family [27:20] (family − 0xf when the family exceeds 0xf).
public struct SNPVCPUType: Sendable, Equatable {
    public var name: String
    public var family: UInt32
    public var model: UInt32
    public var stepping: UInt32

    /// The names QEMU accepts, with their version aliases (the signature does not change across versions).
    public static let known: [SNPVCPUType] = {
        let models: [(names: [String], family: UInt32, model: UInt32, stepping: UInt32)] = [
            (["EPYC", "EPYC-v1", "EPYC-v2", "EPYC-IBPB", "EPYC-v3", "EPYC-v4"], 23, 1, 2),
            (["EPYC-Rome", "EPYC-Rome-v1", "EPYC-Rome-v2", "EPYC-Rome-v3"], 23, 49, 0),
            (["EPYC-Milan", "EPYC-Milan-v1", "EPYC-Milan-v2"], 25, 1, 1),
            (["EPYC-Genoa", "EPYC-Genoa-v1"], 25, 17, 0),
            (["EPYC-Turin"], 26, 0, 0),
        ]
        return models.flatMap { entry in entry.names.map { SNPVCPUType(name: $0, family: entry.family, model: entry.model, stepping: entry.stepping) } }
    }()

    /// The type QEMU calls `name`, or an error listing the ones Coffer knows.
    public init(named name: String) throws(LaunchDigestError) {
        guard let known = Self.known.first(where: { $0.name == name }) else {
            throw .input("unknown vCPU type \"\(name.prefix(32))\": use one of \(Self.known.map(\.name).joined(separator: ", "))")
        }
        self = known
    }

    public init(name: String, family: UInt32, model: UInt32, stepping: UInt32) {
        self.name = name
        self.family = family
        self.model = model
        self.stepping = stepping
    }

    /// CPUID Fn0000_0001_EAX.
    public var signature: UInt32 {
        let (baseFamily, extendedFamily) = family > 0xf ? (UInt32(0xf), (family - 0xf) & 0xff) : (family, 0)
        return extendedFamily << 20 | (model >> 4 & 0xf) << 16 | baseFamily << 8 | (model & 0xf) << 4 | stepping & 0xf
    }
}
