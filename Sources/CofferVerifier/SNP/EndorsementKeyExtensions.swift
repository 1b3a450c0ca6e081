import CofferEvidence
import SwiftASN1

/// The AMD-specific extensions of a VCEK or VLEK certificate (AMD "Versioned Chip Endorsement
/// Key (VCEK) Certificate and KDS Interface Specification", publication 57230, table "VCEK
/// Certificate Extensions"; the VLEK certificate carries the same TCB extensions and a CSP id):
///
/// ```
///  1.3.6.1.4.1.3704.1.1     structVersion   INTEGER
///  1.3.6.1.4.1.3704.1.2     productName1    IA5String  ("Milan-B0", "Genoa", …)
///  1.3.6.1.4.1.3704.1.3.1   blSPL           INTEGER    ─┐
///  1.3.6.1.4.1.3704.1.3.2   teeSPL          INTEGER     │ the TCB the key was issued for,
///  1.3.6.1.4.1.3704.1.3.4-7 spl4..spl7      INTEGER     │ bytes of TCB_VERSION
///  1.3.6.1.4.1.3704.1.3.3   snpSPL          INTEGER     │
///  1.3.6.1.4.1.3704.1.3.8   ucodeSPL        INTEGER    ─┘
///  1.3.6.1.4.1.3704.1.4     hwID            raw 64 bytes (VCEK only: the chip's CHIP_ID)
///  1.3.6.1.4.1.3704.1.5     cspID           IA5String  (VLEK only: the cloud provider)
/// ```
public struct EndorsementKeyExtensions: Sendable, Equatable {
    static let prefix = "1.3.6.1.4.1.3704.1."

    public var productName: String?
    /// The TCB the certificate was issued for, packed like the report's TCB_VERSION.
    public var tcb: SNPTCBVersion
    public var hardwareID: [UInt8]?
    public var cspID: String?

    public init(_ certificate: AMDCertificate) throws(AMDCertificateError) {
        var seen: Set<String> = []
        for ext in certificate.extensions where ext.oid.hasPrefix(Self.prefix) {
            /// A duplicated extension could give two TCBs to one certificate; refuse rather than pick.
            guard seen.insert(ext.oid).inserted else { throw .malformed("duplicate extension \(ext.oid)") }
        }
        func spl(_ suffix: String) throws(AMDCertificateError) -> UInt8 {
            let oid = Self.prefix + "3." + suffix
            guard let ext = certificate.extension(oid) else { throw .malformed("missing TCB extension \(oid)") }
            do {
                return try UInt8(derEncoded: DER.parse(ext.value))
            } catch {
                throw .malformed("TCB extension \(oid) is not an INTEGER in 0...255")
            }
        }
        let bytes: [UInt8] = [
            try spl("1"), try spl("2"), try spl("4"), try spl("5"), try spl("6"), try spl("7"), try spl("3"), try spl("8"),
        ]
        var raw: UInt64 = 0
        for (i, byte) in bytes.enumerated() { raw |= UInt64(byte) << (8 * UInt64(i)) }
        tcb = SNPTCBVersion(raw: raw)
        productName = try Self.ia5(certificate, "2")
        cspID = try Self.ia5(certificate, "5")
        if let hwid = certificate.extension(Self.prefix + "4") {
            guard hwid.value.count == 64 else { throw .malformed("hwID extension is \(hwid.value.count) bytes, not 64") }
            hardwareID = hwid.value
        }
    }

    private static func ia5(_ certificate: AMDCertificate, _ suffix: String) throws(AMDCertificateError) -> String? {
        guard let ext = certificate.extension(prefix + suffix) else { return nil }
        do {
            let string = try ASN1IA5String(derEncoded: DER.parse(ext.value))
            return String(decoding: string.bytes, as: UTF8.self)
        } catch {
            throw .malformed("extension \(prefix + suffix) is not an IA5String")
        }
    }
}
