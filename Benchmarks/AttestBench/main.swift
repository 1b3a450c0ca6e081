// attest-bench: DCAP verifications per second on the SGX and TDX vectors at one fixed time.
//
// Each iteration does the whole job a verifier does per request: parse the collateral bundle
// (outer JSON, TCB Info, QE Identity, PEM chains, CRLs), parse the quote, and run every check.
// scripts/bench-attest runs dcap-qvl on the same inputs and prints the ratio.
//
// Usage: attest-bench [VECTORS_DIR] [SECONDS_PER_VECTOR]
import CofferVerifier
import Foundation

let arguments = CommandLine.arguments
let vectors = URL(fileURLWithPath: arguments.count > 1 ? arguments[1] : "../shared/vectors")
let seconds = arguments.count > 2 ? Double(arguments[2]) ?? 3 : 3
let time = Date(timeIntervalSince1970: 1_750_600_000)

for name in ["sgx-dcap", "tdx-dcap"] {
    let directory = vectors.appendingPathComponent(name)
    guard let quote = try? Array(Data(contentsOf: directory.appendingPathComponent("quote.bin"))),
          let json = try? Data(contentsOf: directory.appendingPathComponent("collateral.json"))
    else {
        print("\(name): cannot read \(directory.path)")
        exit(1)
    }
    func once() -> Result<Claims, VerificationFailure> {
        do throws(VerificationFailure) {
            return DCAPVerifier.verify(quote: quote, collateral: try DCAPCollateral(json: json), at: time)
        } catch {
            return .failure(error)
        }
    }
    if case .failure(let failure) = once() {
        print("\(name): does not verify: \(failure)")
        exit(1)
    }
    for _ in 0..<20 { _ = once() }  // warm-up
    let clock = ContinuousClock()
    let start = clock.now
    let budget = Duration.milliseconds(Int64(seconds * 1000))
    var iterations = 0
    var elapsed = Duration.zero
    while elapsed < budget {
        for _ in 0..<10 { _ = once() }
        iterations += 10
        elapsed = clock.now - start
    }
    let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("\(name): \(String(format: "%.1f", Double(iterations) / total)) verifications/s (\(iterations) in \(String(format: "%.2f", total)) s)")
}
