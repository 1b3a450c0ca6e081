import CofferCore
import CofferEvidence

/// An SGX or TDX quote, reduced to what DCAP verification treats alike.
struct DCAPQuote {
    enum Body {
        case sgx(SGXReportBody)
        case tdx(TDReportBody)
    }

    var header: QuoteHeader
    var body: Body
    var signatureData: ECDSASignatureData
    var signedBytes: ArraySlice<UInt8>

    var isTDX: Bool { if case .tdx = body { true } else { false } }

    init(bytes: [UInt8]) throws(VerificationFailure) {
        do throws(IntelQuoteError) {
            switch EvidenceKind.detectIntelQuote(bytes) {
            case .sgxQuoteV3:
                let quote = try SGXQuote(bytes: bytes)
                (header, body, signatureData, signedBytes) = (quote.header, .sgx(quote.body), quote.signatureData, quote.signedBytes)
            case .tdxQuoteV4, .tdxQuoteV5:
                let quote = try TDXQuote(bytes: bytes)
                (header, body, signatureData, signedBytes) = (quote.header, .tdx(quote.body), quote.signatureData, quote.signedBytes)
            default:
                // Parse the header anyway for the precise complaint (truncation, key type).
                let header = try QuoteHeader(bytes: bytes)
                throw IntelQuoteError.badValue(field: "header.version",
                    detail: "version \(header.version) with TEE type \(header.teeType) is neither SGX v3 nor TDX v4/v5")
            }
        } catch {
            throw VerificationFailure(.malformedEvidence, error.description)
        }
        /// Only Intel's QE is described by the QE Identity Intel signs; another vendor's QE would be
        /// judged against the wrong identity.
        guard header.qeVendorID == QuoteHeader.intelQEVendorID else {
            throw VerificationFailure(.malformedEvidence, "QE vendor id \(Hex.encode(header.qeVendorID)) is not Intel's")
        }
    }

    /// The PCK certificate chain (certification data type 5) as PEM text.
    func pckChainPEM() throws(VerificationFailure) -> String {
        let certification = signatureData.qe.certification
        guard certification.type == CertificationData.pckCertificateChain else {
            throw VerificationFailure(.malformedEvidence,
                "certification data type \(certification.type) carries no PCK certificate chain (type 5 needed; fetch the PCK certificate from a PCCS)")
        }
        return String(decoding: certification.data.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    /// The measured values a policy matches against, and the report data.
    func claims(status: TCBStatus, advisories: [String], details: [String: String]) -> Claims {
        var measurements: [String: String] = [:]
        let reportData: [UInt8]
        let tee: TEEType
        var details = details
        details["quote_version"] = "\(header.version)"
        switch body {
        case .sgx(let report):
            tee = .sgx
            measurements["mr_enclave"] = Hex.encode(report.mrEnclave)
            measurements["mr_signer"] = Hex.encode(report.mrSigner)
            measurements["isv_prod_id"] = "\(report.isvProdID)"
            measurements["isv_svn"] = "\(report.isvSVN)"
            measurements["attributes"] = Hex.encode(report.attributes)
            measurements["cpu_svn"] = Hex.encode(report.cpuSVN)
            measurements["misc_select"] = "\(report.miscSelect)"
            measurements["config_id"] = Hex.encode(report.configID)
            measurements["config_svn"] = "\(report.configSVN)"
            details["debug"] = report.attributes[0] & 0x02 != 0 ? "true" : "false"
            reportData = report.reportData
        case .tdx(let body):
            tee = .tdx
            let report = body.base
            measurements["mr_td"] = Hex.encode(report.mrTD)
            for (index, register) in report.rtmr.enumerated() { measurements["rtmr\(index)"] = Hex.encode(register) }
            measurements["mr_config_id"] = Hex.encode(report.mrConfigID)
            measurements["mr_owner"] = Hex.encode(report.mrOwner)
            measurements["mr_owner_config"] = Hex.encode(report.mrOwnerConfig)
            measurements["mr_seam"] = Hex.encode(report.mrSeam)
            measurements["mr_signer_seam"] = Hex.encode(report.mrSignerSeam)
            measurements["td_attributes"] = Hex.encode(report.tdAttributes)
            measurements["xfam"] = Hex.encode(report.xfam)
            measurements["tee_tcb_svn"] = Hex.encode(report.teeTCBSVN)
            if case .v15(let v15) = body {
                measurements["tee_tcb_svn2"] = Hex.encode(v15.teeTCBSVN2)
                measurements["mr_servicetd"] = Hex.encode(v15.mrServiceTD)
            }
            details["debug"] = report.tdAttributes[0] & 0x01 != 0 ? "true" : "false"
            reportData = report.reportData
        }
        return Claims(tee: tee, hardwareBacked: true, tcbStatus: status, advisoryIDs: advisories,
                      measurements: measurements, reportData: Hex.encode(reportData), details: details)
    }
}
