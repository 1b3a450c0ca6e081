import CofferEvidence
import CofferVerifier
import Crypto
import Foundation
import CofferJSON

/// What a guest without a TEE does for the `sample` TEE: the launcher signs sample evidence whose
/// report data is the binding digest of this session's runtime-data. Not hardware-backed.
public struct SampleAttester: Sendable {
    public var launcherKey: Curve25519.Signing.PrivateKey
    public var measurement: [UInt8]
    public var hostData: [UInt8]

    public init(launcherKey: Curve25519.Signing.PrivateKey, measurement: [UInt8], hostData: [UInt8] = []) {
        self.launcherKey = launcherKey
        self.measurement = measurement
        self.hostData = hostData
    }

    /// `tee-evidence` for the challenge: `{"primary_evidence": {"evidence": b64}, "additional_evidence": ""}`.
    public func evidence(runtimeData: RuntimeData, hash: BindingHash, additionalEvidence: String = "") throws -> CompositeEvidence {
        let reportData = ReportDataBinding.expected(runtimeData: runtimeData, additionalEvidence: additionalEvidence, hash: hash)
        let evidence = try SampleEvidence.signed(measurement: measurement, hostData: hostData, reportData: reportData, by: launcherKey)
        return CompositeEvidence(primaryEvidence: .object(["evidence": .string(Data(evidence.encoded).base64EncodedString())]),
                                 additionalEvidence: additionalEvidence)
    }
}
