import CofferCore
import CofferWire
import Testing

@Suite struct BrokerPinTests {
    /// Golden: the argument's spelling and what it hashes are measured (decision 0037).
    @Test func kernelArgumentIsTheSHA256OfTheKeyInfo() throws {
        let spki = Array("a SubjectPublicKeyInfo".utf8)
        let pin = BrokerPin(subjectPublicKeyInfo: spki)
        #expect(pin.digest == SHA256Digest.hash(spki))
        #expect(pin.kernelArgument == "coffer.kbs=sha256:" + Hex.encode(SHA256Digest.hash(spki)))
        #expect(BrokerPin(subjectPublicKeyInfo: []).kernelArgument == "coffer.kbs=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(try BrokerPin.parse(commandLine: KernelCommandLine("console=hvc0 \(pin.kernelArgument)")) == pin)
        #expect(try BrokerPin.parse(commandLine: KernelCommandLine("console=hvc0")) == nil)
    }

    @Test func refusesWhatIsNotASHA256() throws {
        for value in ["", "sha256", "sha256:", String(repeating: "ab", count: 32), "sha384:" + String(repeating: "ab", count: 32),
                      "sha256:" + String(repeating: "AB", count: 32), "sha256:" + String(repeating: "ab", count: 31),
                      "sha256:" + String(repeating: "zz", count: 32)] {
            #expect(throws: FieldError.self, "\(value)") { try BrokerPin.parse(commandLine: KernelCommandLine("coffer.kbs=\(value)")) }
        }
        #expect(throws: FieldError.self) { try BrokerPin(digest: [1, 2, 3]) }
        let arg = "coffer.kbs=sha256:" + String(repeating: "00", count: 32)
        #expect(throws: (any Error).self) { try KernelCommandLine("\(arg) \(arg)") }
    }
}
