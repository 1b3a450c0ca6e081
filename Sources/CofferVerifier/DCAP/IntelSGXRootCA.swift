/// The Intel SGX Root CA, the trust anchor of every SGX and TDX DCAP quote and of Intel's
/// TCB Info and QE Identity signing chains (subject "CN=Intel SGX Root CA, O=Intel Corporation",
/// valid 2018-05-21 to 2049-12-31, SHA-256 fingerprint 44:A0:19:6B:…).
///
/// Pinned in the source, not fetched: a verifier that accepted a root from the collateral or the
/// quote would accept any chain an attacker brings along. Public certificate, from Intel PCS.
public enum IntelSGXRootCA {
    public static let pem = """
        -----BEGIN CERTIFICATE-----
        MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
        aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
        cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
        BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
        A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
        aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
        AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
        1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
        uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
        MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
        ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
        Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
        KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
        AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
        -----END CERTIFICATE-----
        """
}

import Foundation
import X509

extension IntelSGXRootCA {
    /// The pinned root, parsed. Parsing a constant cannot fail unless the constant was edited; that
    /// is reported as a chain failure rather than a trap.
    public static func certificate() throws(VerificationFailure) -> Certificate {
        try parsed.get()
    }

    private static let parsed: Result<Certificate, VerificationFailure> = {
        do { return .success(try Certificate(pemEncoded: pem)) } catch {
            return .failure(VerificationFailure(.certificateChain, "the pinned Intel SGX Root CA does not parse: \(error)"))
        }
    }()

    /// The PEM block as it appears in Intel's chains, to recognise copies without parsing them.
    static let pemBlock: Substring = Substring(pem.trimmingCharacters(in: .whitespacesAndNewlines))
}
