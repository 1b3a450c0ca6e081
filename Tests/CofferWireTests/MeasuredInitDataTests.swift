import CofferCore
import CofferWire
import Testing

@Suite struct MeasuredInitDataTests {
    /// Golden: the argument's spelling is measured.
    @Test func kernelArgumentRoundTrips() throws {
        let measured = try MeasuredInitData(algorithm: "sha384", digest: [UInt8](repeating: 0xab, count: 48))
        #expect(measured.kernelArgument == "coffer.initdata=sha384:" + String(repeating: "ab", count: 48))
        #expect(try MeasuredInitData.parse(commandLine: KernelCommandLine("console=hvc0 \(measured.kernelArgument)")) == measured)
        #expect(try MeasuredInitData.parse(commandLine: KernelCommandLine("console=hvc0")) == nil)
    }

    @Test func refusesWhatIsNotADigestOfItsAlgorithm() throws {
        for value in ["", "sha384", "sha384:", "md5:" + String(repeating: "a", count: 32), "sha384:" + String(repeating: "ab", count: 32),
                      "sha256:" + String(repeating: "AB", count: 32), "sha256:" + String(repeating: "zz", count: 32)] {
            #expect(throws: FieldError.self, "\(value)") { try MeasuredInitData.parse(commandLine: KernelCommandLine("coffer.initdata=\(value)")) }
        }
        // Twice is refused by the one command-line parser.
        let arg = "coffer.initdata=sha256:" + String(repeating: "00", count: 32)
        #expect(throws: (any Error).self) { try KernelCommandLine("\(arg) \(arg)") }
    }
}
