import SwiftASN1
import X509

/// The Intel SGX extensions of a PCK certificate: what Intel certified about this platform.
///
/// Intel SGX PCK Certificate and CRL Profile, §1.5 "Intel SGX PCK Certificate" extension
/// 1.2.840.113741.1.13.1: SEQUENCE OF SEQUENCE { OID, value } with PPID (.1, OCTET STRING), TCB
/// (.2, SEQUENCE OF { OID .2.1–.2.16 component SVN INTEGER, .2.17 PCESVN INTEGER, .2.18 CPUSVN
/// OCTET STRING }), PCE-ID (.3), FMSPC (.4), SGX type (.5) and, for platform CAs, more entries.
struct PCKExtensions: Sendable {
    static let sgxExtensions: ASN1ObjectIdentifier = [1, 2, 840, 113741, 1, 13, 1]

    var ppid: [UInt8]
    /// TCB components 1–16, the SVNs matched against `sgxtcbcomponents`.
    var components: [UInt8]
    var pceSVN: UInt16
    var cpuSVN: [UInt8]
    var pceID: [UInt8]
    var fmspc: [UInt8]
}

extension PCKExtensions {
    init(certificate: Certificate) throws(VerificationFailure) {
        guard let ext = certificate.extensions.first(where: { $0.oid == Self.sgxExtensions }) else {
            throw VerificationFailure(.certificateChain, "the PCK certificate has no Intel SGX extension (1.2.840.113741.1.13.1)")
        }
        let base = Self.sgxExtensions.oidComponents
        do {
            let entries = try Self.entries(DER.parse(Array(ext.value)))
            guard let ppid = entries[base + [1]], let tcb = entries[base + [2]],
                  let pceID = entries[base + [3]], let fmspc = entries[base + [4]]
            else { throw Missing(detail: "PPID, TCB, PCE-ID or FMSPC missing") }
            self.ppid = Array(try ASN1OctetString(derEncoded: ppid).bytes)
            self.pceID = Array(try ASN1OctetString(derEncoded: pceID).bytes)
            self.fmspc = Array(try ASN1OctetString(derEncoded: fmspc).bytes)
            let tcbEntries = try Self.entries(tcb)
            var components: [UInt8] = []
            for index in 1...16 {
                guard let node = tcbEntries[base + [2, UInt(index)]] else {
                    throw Missing(detail: "TCB component \(index) missing")
                }
                components.append(try UInt8(derEncoded: node))
            }
            self.components = components
            guard let pceSVN = tcbEntries[base + [2, 17]], let cpuSVN = tcbEntries[base + [2, 18]] else {
                throw Missing(detail: "PCESVN or CPUSVN missing")
            }
            self.pceSVN = try UInt16(derEncoded: pceSVN)
            self.cpuSVN = Array(try ASN1OctetString(derEncoded: cpuSVN).bytes)
        } catch let failure as VerificationFailure {
            throw failure
        } catch {
            throw VerificationFailure(.certificateChain, "the PCK certificate's Intel SGX extension is malformed: \(error)")
        }
    }

    private struct Missing: Error, CustomStringConvertible {
        var detail: String
        var description: String { detail }
    }

    /// Reads SEQUENCE OF SEQUENCE { OID, value } into a dictionary from OID to value node.
    private static func entries(_ node: ASN1Node) throws -> [[UInt]: ASN1Node] {
        guard case .constructed(let items) = node.content else { throw Missing(detail: "expected a SEQUENCE") }
        var result: [[UInt]: ASN1Node] = [:]
        for item in items {
            guard case .constructed(let pair) = item.content else { throw Missing(detail: "expected SEQUENCE { OID, value }") }
            var iterator = pair.makeIterator()
            guard let oid = iterator.next(), let value = iterator.next() else { throw Missing(detail: "empty entry") }
            result[try ASN1ObjectIdentifier(derEncoded: oid).oidComponents] = value
        }
        return result
    }
}
