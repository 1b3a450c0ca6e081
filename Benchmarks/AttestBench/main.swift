// attest-bench: DCAP verifications per second on the SGX and TDX vectors at one fixed time.
//
// Two rates per vector:
// - `NAME`: each iteration parses the collateral bundle (outer JSON, TCB Info, QE Identity, PEM
//   chains, CRLs), parses the quote and runs every check — the whole job per request.
// - `NAME+cold`: the same, with the remembered collateral signatures forgotten before each
//   iteration, so all nine ECDSA checks run every time (a verifier seeing each bundle once).
// - `NAME+parsed-collateral`: the bundle is parsed once (as a service holding collateral per FMSPC
//   until its next update would), each iteration parses the quote and runs every check.
// scripts/bench-attest runs dcap-qvl on the same inputs and prints the ratios.
//
// Usage: attest-bench [VECTORS_DIR] [SECONDS_PER_RATE]
import CofferVerifier
import Foundation

let arguments = CommandLine.arguments
let vectors = URL(fileURLWithPath: arguments.count > 1 ? arguments[1] : "../shared/vectors")
let seconds = arguments.count > 2 ? Double(arguments[2]) ?? 3 : 3
let time = Date(timeIntervalSince1970: 1_750_600_000)

/// Runs `body` for about `seconds` after a warm-up; returns (iterations, elapsed seconds).
func measure(_ body: () -> Void) -> (Int, Double) {
    for _ in 0..<20 { body() }
    let clock = ContinuousClock()
    let start = clock.now
    let budget = Duration.milliseconds(Int64(seconds * 1000))
    var iterations = 0
    var elapsed = Duration.zero
    while elapsed < budget {
        for _ in 0..<10 { body() }
        iterations += 10
        elapsed = clock.now - start
    }
    return (iterations, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func report(_ label: String, _ run: (Int, Double)) {
    let (iterations, total) = run
    print("\(label): \(String(format: "%.1f", Double(iterations) / total)) verifications/s (\(iterations) in \(String(format: "%.2f", total)) s)")
}

for name in ["sgx-dcap", "tdx-dcap"] {
    let directory = vectors.appendingPathComponent(name)
    guard let quote = try? Array(Data(contentsOf: directory.appendingPathComponent("quote.bin"))),
          let json = try? Data(contentsOf: directory.appendingPathComponent("collateral.json"))
    else {
        print("\(name): cannot read \(directory.path)")
        exit(1)
    }
    func full() -> Result<Claims, VerificationFailure> {
        do throws(VerificationFailure) {
            return DCAPVerifier.verify(quote: quote, collateral: try DCAPCollateral(json: json), at: time)
        } catch {
            return .failure(error)
        }
    }
    guard case .success = full(), let collateral = try? DCAPCollateral(json: json) else {
        print("\(name): does not verify: \(full())")
        exit(1)
    }
    report(name, measure { _ = full() })
    report("\(name)+cold", measure {
        DCAPVerifier.forgetRememberedCollateral()
        _ = full()
    })
    report("\(name)+parsed-collateral", measure { _ = DCAPVerifier.verify(quote: quote, collateral: collateral, at: time) })
}
