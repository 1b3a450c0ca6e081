import ArgumentParser
import CofferCore
import CofferEvidence
import CofferImage
import CofferVerifier
import Foundation

/// `coffer sgx`: SGX enclave tools for an enclave's owner.
struct SGXCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sgx", abstract: "SGX enclave tools: sign an enclave (its measurement: `coffer measure --tee sgx`).",
        subcommands: [SGXSignCommand.self])
}

/// `coffer sgx sign ENCLAVE.sgxs --key KEY.pem --out FILE.sig`: a SIGSTRUCT for the enclave, so an
/// owner signs their own enclave (MRSIGNER is then their key's).
struct SGXSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Write a SIGSTRUCT signing an enclave's SGXS with an RSA-3072, exponent-3 key.",
        discussion: """
            ENCLAVEHASH is the MRENCLAVE computed from ENCLAVE.sgxs; the key is an unencrypted PEM RSA-3072 key with \
            public exponent 3 (`openssl genrsa -3 3072`). ATTRIBUTES and ATTRIBUTEMASK are 16 bytes of hex each (FLAGS \
            then XFRM, little-endian, as SIGSTRUCT holds them); the defaults ask for a 64-bit, non-debug enclave with \
            x87 and SSE state, check every FLAGS bit (so the signature does not launch the enclave in debug mode) and \
            leave the AVX and AVX-512 XFRM bits to the platform. The output is replaced atomically.
            """)

    @Argument(help: "The enclave's SGXS measurement stream.") var enclave: String
    @Option(help: "PEM RSA-3072 private key with public exponent 3.") var key: String
    @Option(help: "Where to write the SIGSTRUCT (1808 bytes).") var out: String
    @Option(help: "ISVPRODID, 0-65535.") var isvprodid: UInt16 = 0
    @Option(help: "ISVSVN, 0-65535.") var isvsvn: UInt16 = 0
    @Option(help: "DATE as YYYYMMDD (default: today, UTC).") var date: String?
    @Option(help: "ATTRIBUTES, 32 hex digits.") var attributes = "04000000000000000300000000000000"
    @Option(name: .customLong("attribute-mask"), help: "ATTRIBUTEMASK, 32 hex digits.") var attributeMask = "ffffffffffffffff1bffffffffffffff"
    @Option(help: "MISCSELECT.") var miscselect: UInt32 = 0
    @Option(help: "MISCMASK.") var miscmask: UInt32 = 0xFFFF_FFFF

    func run() throws {
        try reportingErrors {
            let stream = try SGXEnclaveReport.read(enclave, what: "enclave")
            guard let pem = FileManager.default.contents(atPath: key) else { throw CofferError(.notFound, "signing key \(key): cannot be read") }
            var sig = SigStruct()
            sig.date = try bcdDate()
            sig.attributes = try Self.field(attributes, "--attributes")
            sig.attributeMask = try Self.field(attributeMask, "--attribute-mask")
            sig.miscSelect = miscselect
            sig.miscMask = miscmask
            sig.isvProdID = isvprodid
            sig.isvSVN = isvsvn
            do throws(SGXEnclaveError) {
                let measurement = try SGXSMeasurement(stream: stream)
                sig.enclaveHash = measurement.mrEnclave
                try sig.sign(with: SGXSigningKey(pemRepresentation: String(decoding: pem, as: UTF8.self)))
                // What is written is what Coffer itself accepts: parse the bytes back and verify them.
                try SigStruct(bytes: sig.encoded).verifySignature()
            } catch {
                throw error.cofferError
            }
            try AtomicFile.write(Data(sig.encoded), to: out)
            print("mr_enclave  \(Hex.encode(sig.enclaveHash))")
            print("mr_signer   \(Hex.encode(sig.mrSigner))")
        }
    }

    private func bcdDate() throws(CofferError) -> UInt32 {
        guard let date else {
            let now = CivilTime(secondsSince1970: Int64(Date().timeIntervalSince1970))
            return SigStruct.bcdDate(String(format: "%04d%02d%02d", now.year, now.month, now.day)) ?? 0
        }
        guard let value = SigStruct.bcdDate(date) else { throw CofferError(.invalidInput, "--date \(date): expected YYYYMMDD, a calendar date") }
        return value
    }

    private static func field(_ hex: String, _ option: String) throws(CofferError) -> [UInt8] {
        guard let bytes = Hex.decode(hex), bytes.count == 16 else { throw CofferError(.invalidInput, "\(option) \(hex): expected 32 hex digits (16 bytes)") }
        return bytes
    }
}
