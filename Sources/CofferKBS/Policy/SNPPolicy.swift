import CofferEvidence
import CofferVerifier

/// `min_tcb` of an `snp` policy entry: `{"bootloader": N, "tee": N, "snp": N, "microcode": N}`,
/// the lowest security patch levels the operator accepts (decision 0020). All four are required:
/// a missing one is a decoding error, not a zero that would admit any level of that component.
public struct SNPMinimumTCB: Codable, Sendable, Equatable {
    public var bootloader: UInt8
    public var tee: UInt8
    public var snp: UInt8
    public var microcode: UInt8

    public init(bootloader: UInt8, tee: UInt8, snp: UInt8, microcode: UInt8) {
        self.bootloader = bootloader
        self.tee = tee
        self.snp = snp
        self.microcode = microcode
    }

    public var version: SNPTCBVersion { SNPTCBVersion(bootloader: bootloader, tee: tee, snp: snp, microcode: microcode) }
}

extension AttestationPolicy {
    /// What the verifier needs from the policy for SEV-SNP evidence: the `snp` entry's minimum TCB.
    /// Without one the verifier says `NotEvaluated`, which the default `tcb_statuses` refuses.
    public var snpVerificationOptions: SNPVerificationOptions {
        SNPVerificationOptions(minimumTCB: tees[TEEType.snp.rawValue]?.minTCB?.version)
    }
}

extension TEEAttestationPolicy {
    /// Security: a report requested from VMPL > 0 comes from software other than the guest kernel
    /// (e.g. a paravisor, or a lower-privileged guest layer) and binds that layer's REPORT_DATA,
    /// so it is refused unless the policy raises `max_vmpl` (default 0). Fail closed: an absent
    /// or unreadable `vmpl` claim is refused too.
    func vmplDenial(_ claims: Claims) -> Denial? {
        guard claims.tee == .snp else { return nil }
        let allowed = maxVMPL ?? 0
        guard let text = claims.details["vmpl"], let vmpl = Int(text) else {
            return Denial(claim: "vmpl", expected: "at most \(allowed)", actual: claims.details["vmpl"] ?? "absent",
                          reason: "the evidence does not say which VMPL requested the report")
        }
        guard vmpl <= allowed else {
            return Denial(claim: "vmpl", expected: "at most \(allowed)", actual: text,
                          reason: "the report was requested from VMPL \(vmpl), not by the guest kernel at VMPL 0: set max_vmpl to accept it")
        }
        return nil
    }
}

extension TEEAttestationPolicy {
    /// Why this entry's SNP-only fields are wrong, or nil: `min_tcb`/`max_vmpl` on another TEE
    /// would read as enforced while doing nothing, and a VMPL outside 0–3 names no privilege level.
    func invalidSNPFields(tee: String) -> String? {
        guard tee == TEEType.snp.rawValue else {
            if minTCB != nil { return "tees.\(tee) sets min_tcb: only the snp entry takes it (Intel evidence has its TCB Info)" }
            if maxVMPL != nil { return "tees.\(tee) sets max_vmpl: only the snp entry takes it" }
            return nil
        }
        if let maxVMPL, !(0...3).contains(maxVMPL) { return "tees.snp.max_vmpl \(maxVMPL) is not a VMPL: use 0 to 3" }
        return nil
    }
}
