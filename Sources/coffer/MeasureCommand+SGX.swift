import ArgumentParser
import CofferCore
import CofferEvidence
import CofferJSON
import CofferKBS
import CofferKBSProtocol
import CofferVerifier
import Foundation

/// `coffer measure --tee sgx ENCLAVE.sgxs [--sigstruct FILE]`: an SGX enclave's identity as its
/// quote will report it, from the enclave's SGXS measurement stream and its SIGSTRUCT.
struct SGXMeasureOptions: ParsableArguments {
    @Option(help: "--tee sgx: the enclave's SIGSTRUCT (1808 bytes); its signature and ENCLAVEHASH are checked.") var sigstruct: String?
    @Option(name: .customLong("sgx-resource"), help: "--tee sgx --format policy: a repo/type/tag the enclave may read (repeatable).")
    var resources: [String] = []

    /// `trailing`: what followed ENCLAVE.sgxs on the command line (`measure` captures it as an
    /// image launch's CMD): these options and `--format` may stand there too.
    func measure(enclave path: String, format: MeasureCommand.Format, trailing: [String]) throws {
        let after: SGXTrailingArguments
        do { after = try SGXTrailingArguments.parse(trailing) } catch {
            throw CofferError(.invalidInput, "--tee sgx \(path): \(SGXTrailingArguments.message(for: error))")
        }
        let sigstruct = after.sgx.sigstruct ?? sigstruct
        let resources = resources + after.sgx.resources
        let format = after.format ?? format
        let stream = try SGXEnclaveReport.read(path, what: "enclave")
        let sigStruct = try sigstruct.map { path throws in try SGXEnclaveReport.read(path, what: "SIGSTRUCT") }
        let identity: SGXEnclaveIdentity
        do { identity = try SGXEnclaveIdentity(stream: stream, sigStruct: sigStruct) } catch { throw error.cofferError }
        let report = SGXEnclaveReport(identity, enclave: path, sigstruct: sigstruct)
        switch format {
        case .text: print(report.text)
        case .json: try printJSON(report)
        case .policy:
            let document = try report.policyDocument(resources: resources)
            FileHandle.standardOutput.write(Data(CanonicalJSON.serialize(document)) + Data("\n".utf8))
        }
    }
}

/// What may follow ENCLAVE.sgxs: the SGX options and `--format`.
struct SGXTrailingArguments: ParsableArguments {
    @OptionGroup var sgx: SGXMeasureOptions
    @Option var format: MeasureCommand.Format?
}

/// What `coffer measure --tee sgx` prints (`--format json` encodes it as it is).
struct SGXEnclaveReport: Encodable {
    var tee = "sgx"
    var enclave: String
    var mrEnclave: String
    var enclaveSize: UInt64
    var ssaFrameSize: UInt32
    var pages: Int
    var measuredChunks: Int
    var unmeasuredChunks: Int
    var sigstruct: Signature?
    /// The claims an SGX quote of this enclave carries, as `Claims.measurements` names them.
    var claims: [String: String]

    struct Signature: Encodable {
        var file: String
        var mrSigner: String
        var isvProdID: UInt16
        var isvSVN: UInt16
        /// yyyy-mm-dd, or the raw BCD word in hex when it is not a date.
        var date: String
        var debugSigner: Bool
        var vendor: UInt32
        var attributes: String
        var attributeMask: String
        var miscSelect: UInt32
        var miscMask: UInt32
        var enclaveHashMatches = true
        var signatureVerifies = true
    }

    init(_ identity: SGXEnclaveIdentity, enclave: String, sigstruct file: String?) {
        let measurement = identity.measurement
        self.enclave = enclave
        mrEnclave = Hex.encode(measurement.mrEnclave)
        enclaveSize = measurement.enclaveSize
        ssaFrameSize = measurement.ssaFrameSize
        pages = measurement.pages
        measuredChunks = measurement.measuredChunks
        unmeasuredChunks = measurement.unmeasuredChunks
        claims = identity.claims
        if let sig = identity.sigStruct, let file {
            sigstruct = Signature(
                file: file, mrSigner: Hex.encode(sig.mrSigner), isvProdID: sig.isvProdID, isvSVN: sig.isvSVN,
                date: sig.dateText ?? "0x\(String(sig.date, radix: 16))", debugSigner: sig.type & 0x8000_0000 != 0, vendor: sig.vendor,
                attributes: Hex.encode(sig.attributes), attributeMask: Hex.encode(sig.attributeMask), miscSelect: sig.miscSelect, miscMask: sig.miscMask)
        }
    }

    static func read(_ path: String, what: String) throws(CofferError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CofferError(FileManager.default.fileExists(atPath: path) ? .system : .notFound, "\(what) \(path): cannot be read")
        }
        return Array(data)
    }

    /// `{"attestation": …, "resource": …}` for `coffer kbs admin set-policy`: an `sgx` entry
    /// admitting exactly this enclave (MRENCLAVE and, with a SIGSTRUCT, its signer, product and
    /// SVN), and one rule giving `resources` to it (no rules when none are named).
    func policyDocument(resources: [String]) throws(CofferError) -> JSONValue {
        for path in resources where (try? ResourceURI(path: path)) == nil {
            throw CofferError(.invalidInput, "--sgx-resource \(path): expected repo/type/tag")
        }
        let reference = claims.mapValues { [$0] }
        let attestation = AttestationPolicy(tees: ["sgx": TEEAttestationPolicy(referenceValues: reference)])
        let workload = claims.filter { ["mr_enclave", "mr_signer"].contains($0.key) }.mapValues { [$0] }
        let resource = ResourcePolicy(rules: resources.isEmpty ? [] : [ResourceRule(resources: resources, tees: ["sgx"], measurements: workload)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return .object([
                "attestation": try JSONValue.parse(Array(encoder.encode(attestation))),
                "resource": try JSONValue.parse(Array(encoder.encode(resource))),
            ])
        } catch {
            throw CofferError(.invalidInput, "the policy could not be written: \(error)")
        }
    }

    var text: String {
        var lines = [
            "tee                 sgx",
            "enclave             \(enclave)",
            "mr_enclave          \(mrEnclave)",
            "  size              0x\(String(enclaveSize, radix: 16)) bytes, \(pages) pages, \(measuredChunks) measured chunks, \(unmeasuredChunks) unmeasured",
        ]
        if let sig = sigstruct {
            lines += [
                "sigstruct           \(sig.file) (signature verifies; ENCLAVEHASH is mr_enclave)",
                "mr_signer           \(sig.mrSigner)",
                "isv_prod_id         \(sig.isvProdID)",
                "isv_svn             \(sig.isvSVN)",
                "date                \(sig.date)",
                "attributes          \(sig.attributes)",
                "attribute_mask      \(sig.attributeMask)",
                "misc_select         0x\(String(sig.miscSelect, radix: 16)) (mask 0x\(String(sig.miscMask, radix: 16)))",
                "signer              \(sig.debugSigner ? "debug " : "")vendor 0x\(String(sig.vendor, radix: 16))",
            ]
        } else {
            lines.append("sigstruct           none (give --sigstruct to check it and print mr_signer, isv_prod_id, isv_svn)")
        }
        return lines.joined(separator: "\n")
    }
}
