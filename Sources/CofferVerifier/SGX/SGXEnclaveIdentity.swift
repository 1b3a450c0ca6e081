import CofferCore
import CofferEvidence

/// What an SGX quote of an enclave will report, computed from its files: MRENCLAVE from the SGXS
/// stream and, from a SIGSTRUCT whose signature verifies and whose ENCLAVEHASH is that MRENCLAVE,
/// MRSIGNER, ISVPRODID and ISVSVN (EINIT copies them into SECS, the quote's report body).
public struct SGXEnclaveIdentity: Sendable {
    public var measurement: SGXSMeasurement
    public var sigStruct: SigStruct?

    /// Security: a SIGSTRUCT is believed only when it verifies and signs this very enclave; one
    /// for another enclave (or a tampered stream) is an error naming both values, never a policy
    /// pairing one enclave's MRENCLAVE with another signer's identity.
    public init(stream: [UInt8], sigStruct bytes: [UInt8]?) throws(SGXEnclaveError) {
        measurement = try SGXSMeasurement(stream: stream)
        guard let bytes else { sigStruct = nil; return }
        let parsed = try SigStruct(bytes: bytes)
        try parsed.verifySignature()
        guard parsed.enclaveHash == measurement.mrEnclave else {
            throw .enclaveHashMismatch(enclaveHash: Hex.encode(parsed.enclaveHash), mrEnclave: Hex.encode(measurement.mrEnclave))
        }
        sigStruct = parsed
    }

    /// The claims (as `Claims.measurements` names them for an SGX quote, `DCAPQuote.claims`) whose
    /// values these files fix: `mr_enclave`, and with a SIGSTRUCT `mr_signer`, `isv_prod_id`, `isv_svn`.
    public var claims: [String: String] {
        var claims = ["mr_enclave": Hex.encode(measurement.mrEnclave)]
        if let sigStruct {
            claims["mr_signer"] = Hex.encode(sigStruct.mrSigner)
            claims["isv_prod_id"] = "\(sigStruct.isvProdID)"
            claims["isv_svn"] = "\(sigStruct.isvSVN)"
        }
        return claims
    }
}
