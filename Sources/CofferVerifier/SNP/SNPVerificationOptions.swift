import CofferEvidence

/// What the caller, not the evidence, says about an SEV-SNP platform (decision 0020).
///
/// A report and its VCEK only prove which TCB the chip runs; whether that TCB is current is a fact
/// about AMD's latest firmware, which the evidence cannot carry. So the verifier stays pure and
/// takes it as input: with `minimumTCB` the status is `UpToDate` when every SPL of REPORTED_TCB is
/// at least the minimum's and `OutOfDate` otherwise (google/go-sev-guest's validate MinimumTCB);
/// without one it is `NotEvaluated`, never `UpToDate`.
public struct SNPVerificationOptions: Sendable, Equatable {
    public var minimumTCB: SNPTCBVersion?

    public init(minimumTCB: SNPTCBVersion? = nil) { self.minimumTCB = minimumTCB }

    /// The status of `reported` against the minimum, component by component (the reserved
    /// bytes are not SPLs and are not compared).
    public func status(of reported: SNPTCBVersion) -> TCBStatus {
        guard let minimum = minimumTCB else { return .notEvaluated }
        let meets = reported.bootloader >= minimum.bootloader && reported.tee >= minimum.tee
            && reported.snp >= minimum.snp && reported.microcode >= minimum.microcode
        return meets ? .upToDate : .outOfDate
    }
}

extension SNPTCBVersion {
    /// The components named `bootloader=N,tee=N,snp=N,microcode=N` (each 0 to 255, all four, any
    /// order), as `coffer attest verify --snp-min-tcb` takes them. A missing component is an error,
    /// not a zero: a minimum that silently admits any SPL would be no minimum.
    public init(parsingComponents text: String) throws(VerificationFailure) {
        var values: [String: UInt8] = [:]
        let names = ["bootloader", "tee", "snp", "microcode"]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pair.first.map { String($0).trimmingWhitespace() } ?? ""
            guard pair.count == 2, names.contains(name), values[name] == nil,
                let value = UInt8(String(pair[1]).trimmingWhitespace())
            else {
                throw VerificationFailure(.tcb, "minimum TCB \"\(String(text.prefix(80)))\": expected bootloader=N,tee=N,snp=N,microcode=N with each N from 0 to 255, each once")
            }
            values[name] = value
        }
        guard let bootloader = values["bootloader"], let tee = values["tee"], let snp = values["snp"], let microcode = values["microcode"] else {
            let missing = names.filter { values[$0] == nil }.joined(separator: ", ")
            throw VerificationFailure(.tcb, "minimum TCB \"\(String(text.prefix(80)))\" does not name \(missing): give all four of bootloader, tee, snp, microcode")
        }
        self.init(bootloader: bootloader, tee: tee, snp: snp, microcode: microcode)
    }
}

private extension String {
    func trimmingWhitespace() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
