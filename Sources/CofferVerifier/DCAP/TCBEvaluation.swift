import CofferCore
import CofferEvidence

/// A TCB status with the advisories of the level that gave it.
struct TCBVerdict: Sendable, Equatable {
    var status: TCBStatus
    var advisoryIDs: [String]
}

/// TCB level matching as Intel's Quote Verification Library (QVL) does it.
///
/// QVL, `TcbLevelCheck`/`QuoteVerifier`: the platform's level is the first TCB Info level (highest
/// first) whose SGX components and PCESVN are all ≤ the PCK certificate's and, for TDX, whose
/// TDX components are ≤ the TD report's TEE_TCB_SVN. For TDX with a module version
/// (TEE_TCB_SVN[1]) above zero, the first two TEE_TCB_SVN bytes are the module's and are judged by
/// the matching `tdxModuleIdentities` entry instead. The QE's level is the first QE Identity
/// level whose ISVSVN is ≤ the QE report's.
enum TCBEvaluation {
    static func platform(
        _ info: TCBInfo, pck: PCKExtensions, teeTCBSVN: [UInt8]?
    ) throws(VerificationFailure) -> TCBVerdict {
        let skip = (teeTCBSVN.map { $0.count > 1 && $0[1] > 0 } ?? false) ? 2 : 0
        for level in info.levels {
            guard pck.pceSVN >= level.pceSVN,
                  zip(pck.components, level.sgxComponents).allSatisfy({ $0 >= $1 })
            else { continue }
            if let teeTCBSVN {
                guard zip(teeTCBSVN, level.tdxComponents).dropFirst(skip).allSatisfy({ $0 >= $1 }) else { continue }
            }
            return TCBVerdict(status: level.status, advisoryIDs: level.advisoryIDs)
        }
        throw VerificationFailure(.tcb,
            "no TCB level of FMSPC \(Hex.encode(info.fmspc)) matches this platform (PCK components \(Hex.encode(pck.components)), PCESVN \(pck.pceSVN)\(teeTCBSVN.map { ", TEE_TCB_SVN \(Hex.encode($0))" } ?? "")): its TCB is below every level Intel lists")
    }

    /// Checks the TDX module (MRSIGNER_SEAM, SEAM attributes) against TCB Info v3 and, when the
    /// module version is above zero, returns the module's own TCB level.
    static func tdxModule(_ info: TCBInfo, report: TDReport10) throws(VerificationFailure) -> TCBVerdict? {
        guard info.isTDX, info.version >= 3 else { return nil }
        guard var module = info.tdxModule else {
            throw VerificationFailure(.tcb, "TDX TCB Info has no tdxModule entry")
        }
        let version = report.teeTCBSVN[1]
        var levels: [(isvSVN: UInt8, status: TCBStatus, advisoryIDs: [String])]? = nil
        if version > 0, !info.tdxModuleIdentities.isEmpty {
            let hex = Hex.encode([version]).uppercased()
            guard let identity = info.tdxModuleIdentities.first(where: { $0.id.uppercased() == "TDX_\(hex)" }) else {
                throw VerificationFailure(.tcb, "TCB Info lists no TDX module identity TDX_\(hex) for this TDX module version")
            }
            module = identity
            levels = identity.levels
        }
        /// MRSIGNER_SEAM identifies who signed the TDX module: a module from another signer is not
        /// Intel's and TCB Info says nothing about it.
        guard report.mrSignerSeam == module.mrSigner else {
            throw VerificationFailure(.tcb, "TDX module MRSIGNER_SEAM \(Hex.encode(report.mrSignerSeam)) is not \(module.id)'s \(Hex.encode(module.mrSigner))")
        }
        for index in 0..<8 where report.seamAttributes[index] & module.attributesMask[index] != module.attributes[index] & module.attributesMask[index] {
            throw VerificationFailure(.tcb, "TDX module SEAM attributes \(Hex.encode(report.seamAttributes)) do not match \(module.id)")
        }
        guard let levels else { return nil }
        let isvSVN = report.teeTCBSVN[0]
        guard let level = levels.first(where: { isvSVN >= $0.isvSVN }) else {
            throw VerificationFailure(.tcb, "TDX module ISVSVN \(isvSVN) is below every \(module.id) TCB level")
        }
        return TCBVerdict(status: level.status, advisoryIDs: level.advisoryIDs)
    }

    /// Checks the QE report against QE Identity and returns the QE's TCB level.
    static func qe(_ identity: QEIdentity, report: SGXReportBody) throws(VerificationFailure) -> TCBVerdict {
        /// MRSIGNER and ISVPRODID pin the enclave that vouches for the attestation key: any other
        /// enclave signed by the PCK key (Intel's PCE signs reports for several) is refused.
        guard report.mrSigner == identity.mrSigner else {
            throw VerificationFailure(.qeIdentity, "QE MRSIGNER \(Hex.encode(report.mrSigner)) is not \(identity.id)'s \(Hex.encode(identity.mrSigner))")
        }
        guard report.isvProdID == identity.isvProdID else {
            throw VerificationFailure(.qeIdentity, "QE ISVPRODID \(report.isvProdID) is not \(identity.isvProdID)")
        }
        guard report.miscSelect & identity.miscSelectMask == identity.miscSelect & identity.miscSelectMask else {
            throw VerificationFailure(.qeIdentity, "QE MISCSELECT \(report.miscSelect) does not match \(identity.id)")
        }
        for index in 0..<16 where report.attributes[index] & identity.attributesMask[index] != identity.attributes[index] & identity.attributesMask[index] {
            throw VerificationFailure(.qeIdentity, "QE attributes \(Hex.encode(report.attributes)) do not match \(identity.id) (debug QE?)")
        }
        guard let level = identity.levels.first(where: { report.isvSVN >= $0.isvSVN }) else {
            return TCBVerdict(status: .revoked, advisoryIDs: [])
        }
        return TCBVerdict(status: level.status, advisoryIDs: level.advisoryIDs)
    }

    /// Combines the platform status with the QE's (or the TDX module's) as QVL's
    /// `convergeTcbStatusWithQeTcbStatus` does: an out-of-date QE makes an up-to-date or
    /// hardening-needed platform OutOfDate and a configuration-needed one
    /// OutOfDateConfigurationNeeded; a revoked QE makes it Revoked; otherwise the platform status.
    static func converge(platform: TCBStatus, with other: TCBStatus) -> TCBStatus {
        switch (other, platform) {
        case (.revoked, _): .revoked
        case (.outOfDate, .upToDate), (.outOfDate, .swHardeningNeeded): .outOfDate
        case (.outOfDate, .configurationNeeded), (.outOfDate, .configurationAndSWHardeningNeeded): .outOfDateConfigurationNeeded
        default: platform
        }
    }
}
