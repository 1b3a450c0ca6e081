import CofferWire

/// What `HostRequestLoop` asks for evidence: the TEE in the guest, a recording fake in tests.
protocol EvidenceSource {
    /// Which evidence this guest can give (`none`: no TEE, development mode), asked before
    /// provisioning's `auth` names its TEE.
    var teeKind: GuestEvidence.Format { get }
    /// Evidence binding `reportData` (64 bytes the agent derived, never the host's).
    func evidence(reportData: [UInt8]) -> GuestEvidence
    /// The same, with SNP's VCEK (DER) when the host supplied a certificate table (auxblob).
    func evidenceWithVCEK(reportData: [UInt8]) -> (GuestEvidence, vcek: [UInt8]?)
}

extension EvidenceSource {
    func evidenceWithVCEK(reportData: [UInt8]) -> (GuestEvidence, vcek: [UInt8]?) { (evidence(reportData: reportData), nil) }
}

/// What `HostRequestLoop` starts processes with: fork and exec in the guest, a fake in tests.
protocol ProcessSpawner {
    func start(_ request: StartProcess, path: String, user: ResolvedUser) throws -> GuestProcess
}

/// Real processes (`GuestProcess.start`).
struct GuestSpawner: ProcessSpawner {
    func start(_ request: StartProcess, path: String, user: ResolvedUser) throws -> GuestProcess {
        try GuestProcess.start(request, path: path, user: user)
    }
}
