import CofferTestSupport
import Foundation
import Testing
@testable import CofferVerifier

/// Fetching collateral from a real HTTP server on 127.0.0.1 (Fixtures/pccs_server.py, serving a
/// vector's collateral as PCS API v4 does) gives a bundle with the vector's exact contents, and
/// the quote verifies with it exactly as with the vector's own bundle.
@Suite struct PCCSClientTests {
    /// Starts the fixture server for `vector`; returns the process and its base URL.
    static func startServer(_ vector: String, tee: String) throws -> (Process, URL) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pccs_server.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, try Vectors.path(vector), tee]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(0x0a) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              let url = URL(string: "http://127.0.0.1:\(port)")
        else {
            stop(process)
            throw PCCSError.url("the fixture server did not print its port: \(String(decoding: line, as: UTF8.self))")
        }
        return (process, url)
    }

    /// SIGKILL: the test runner's children may inherit a blocked SIGTERM, which `terminate()` sends.
    static func stop(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    @Test(arguments: [("sgx-dcap", "sgx"), ("tdx-dcap", "tdx")])
    func fetchedBundleVerifiesLikeTheVector(vector: String, tee: String) throws {
        let quote = try DCAPVectors.quote(vector)
        let request = try CollateralRequest(quote: quote)
        #expect(request.tee.rawValue == tee)
        #expect(request.ca == .processor || request.ca == .platform)

        let (server, url) = try Self.startServer(vector, tee: tee)
        defer { Self.stop(server) }
        let bundle = try PCCSClient(baseURL: url, allowPlainHTTP: true, timeout: 10).collateralBundle(forQuote: quote)

        // Field by field, the vector's contents (CRLs as hex of DER, signed bodies byte-exact).
        let fetched = try JSONSerialization.jsonObject(with: Data(bundle)) as? [String: String] ?? [:]
        let expected = try JSONSerialization.jsonObject(with: try DCAPVectors.collateralJSON(vector)) as? [String: String] ?? [:]
        #expect(fetched.count == 9)
        for (key, value) in expected {
            #expect(fetched[key]?.lowercased() == value.lowercased(), "\(key)")
        }

        let collateral = try DCAPCollateral(json: Data(bundle))
        let outcome = DCAPVectors.verify(quote, collateral)
        let reference = DCAPVectors.verify(quote, try DCAPVectors.collateral(vector))
        guard case .success(let claims) = outcome, case .success(let referenceClaims) = reference else {
            Issue.record("both must verify: \(outcome) / \(reference)")
            return
        }
        #expect(claims == referenceClaims)
    }

    @Test func plainHTTPNeedsPermission() {
        #expect(throws: PCCSError.self) { try PCCSClient(baseURL: URL(string: "http://127.0.0.1:1")!) }
        #expect(throws: PCCSError.self) { try PCCSClient(baseURL: URL(string: "ftp://127.0.0.1/")!, allowPlainHTTP: true) }
    }

    @Test func wrongTEEPathIsAnHTTPError() throws {
        // The SGX quote asked of a server that only has TDX TCB Info: a 404, reported with its URL.
        let (server, url) = try Self.startServer("tdx-dcap", tee: "tdx")
        defer { Self.stop(server) }
        let client = try PCCSClient(baseURL: url, allowPlainHTTP: true, timeout: 10)
        let quote = try DCAPVectors.quote("sgx-dcap")
        do throws(PCCSError) {
            _ = try client.collateralBundle(forQuote: quote)
            Issue.record("fetching SGX collateral from a TDX-only server must fail")
        } catch {
            guard case .http(let failed, let detail) = error else {
                Issue.record("expected an HTTP error, got \(error)")
                return
            }
            #expect(failed.contains("/sgx/certification/v4/tcb") && detail.contains("404"), "\(failed) \(detail)")
        }
    }
}
