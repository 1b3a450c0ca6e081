@testable import CofferKBS
import CofferTestSupport
import Foundation
import Testing

/// `coffer kbs serve --tls-cert FILE --tls-key FILE`: the operator's own certificate, made by
/// the openssl CLI (an implementation independent of Coffer's; scripts/install-deps installs it),
/// served by the real process.
@Suite(.serialized)
struct KBSTLSTests {
    /// A self-signed P-384 certificate for 127.0.0.1 (another curve than Coffer's own P-256).
    static func makeCertificate(in directory: TemporaryDirectory, _ name: String) throws -> (certificate: String, key: String) {
        let (cert, key) = (directory.file(name + ".crt"), directory.file(name + ".key"))
        let made = try run(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout", key, "-out", cert,
                                     "-days", "2", "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        guard made.status == 0 else { throw TestFailure("openssl req failed: \(made.stderr)") }
        return (cert, key)
    }

    /// The base64 body of the first PEM certificate in `text` (whitespace removed).
    static func firstCertificate(_ text: String) -> String? {
        guard let begin = text.range(of: "-----BEGIN CERTIFICATE-----"), let end = text.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<text.endIndex) else { return nil }
        return text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
    }

    @Test func theOperatorsCertificateIsTheOneServed() async throws {
        let files = try TemporaryDirectory("coffer-kbs-tls")
        let given = try Self.makeCertificate(in: files, "operator-kbs")
        let server = try KBSServerProcess(dev: true, tlsCertificate: given)
        // The client trusting only the operator's certificate completes a whole handshake.
        try await KBSEndToEndTests.configure(server)
        let key = TEEKeyPair.ec()
        let handshake = try await server.client.handshake(tee: "sample", key: key, evidence: KBSEndToEndTests.evidence(server))
        #expect(try await server.client.resource("default/key/disk", session: handshake.session, key: key).plaintext == Array("the-disk-key".utf8))
        // What the server presents is byte for byte the given certificate (read by openssl s_client).
        let port = try #require(server.url.split(separator: ":").last.map(String.init))
        let shown = try run(openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"], input: "")
        let served = try #require(Self.firstCertificate(shown.stdout), "s_client printed no certificate: \(shown.stderr)")
        #expect(served == Self.firstCertificate(try String(contentsOfFile: given.certificate, encoding: .utf8)))
        // No self-signed pair was made in the KBS directory, and a client pinning another certificate is refused.
        #expect(!FileManager.default.fileExists(atPath: server.home.path + "/state/kbs/tls.crt"))
        let other = try Self.makeCertificate(in: files, "someone-else")
        let stranger = try KBSClient(baseURL: server.url, trustedCertificatePEM: String(contentsOfFile: other.certificate, encoding: .utf8), connectTimeout: 1)
        await #expect(throws: (any Error).self) { try await stranger.send("GET", "/kbs/v0/signing-key") }
        await stranger.shutdown()
        await server.client.shutdown()
    }

    @Test func aMissingInvalidOrMismatchedFileIsNamed() throws {
        let files = try TemporaryDirectory("coffer-kbs-tls")
        let one = try Self.makeCertificate(in: files, "one"), two = try Self.makeCertificate(in: files, "two")
        let garbage = try files.write("garbage.pem", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
        let empty = try files.write("empty.pem", "hello\n")
        /// `serve` must refuse before it listens; `timeout` keeps a regression from hanging the suite.
        func serve(_ arguments: [String]) throws -> CommandResult {
            try run("/usr/bin/timeout", ["20", Repository.executable("coffer"), "kbs", "serve", "--listen", "127.0.0.1:0", "--home", files.file("state")] + arguments)
        }
        let cases: [([String], [String])] = [
            (["--tls-cert", one.certificate], ["--tls-cert and --tls-key go together"]),
            (["--tls-key", one.key], ["--tls-cert and --tls-key go together"]),
            (["--tls-cert", files.file("absent.crt"), "--tls-key", one.key], [files.file("absent.crt"), "cannot read", "no such file"]),
            (["--tls-cert", one.certificate, "--tls-key", files.file("absent.key")], [files.file("absent.key"), "cannot read"]),
            (["--tls-cert", garbage, "--tls-key", one.key], [garbage, "not a PEM X.509 certificate"]),
            (["--tls-cert", empty, "--tls-key", one.key], [empty, "no PEM CERTIFICATE"]),
            (["--tls-cert", one.certificate, "--tls-key", one.certificate], [one.certificate, "not an unencrypted PEM private key"]),
            (["--tls-cert", one.certificate, "--tls-key", two.key], [two.key, "does not match the certificate \(one.certificate)"]),
        ]
        for (arguments, expected) in cases {
            let result = try serve(arguments)
            #expect(result.status != 0 && result.status != 124, "\(arguments): exit \(result.status)")
            for text in expected { #expect(result.stderr.contains(text), "\(arguments): \(result.stderr)") }
            #expect(!result.stdout.contains("listening"))
        }
    }
}

let openssl = "/usr/bin/openssl"
