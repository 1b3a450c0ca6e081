import CofferCore
import CofferWire
import Testing

@Suite struct WorkloadBindingTests {
    let binding = WorkloadBinding(argv: ["/server", "--port", "8443"], env: ["PATH=/bin"], cwd: "/srv", user: "app")

    @Test func everyFieldChangesTheDigestAndFieldsDoNotRunTogether() {
        let others = [
            WorkloadBinding(argv: ["/server", "--port", "8444"], env: ["PATH=/bin"], cwd: "/srv", user: "app"),
            WorkloadBinding(argv: ["/server", "--port", "8443"], env: ["PATH=/bin", "LD_PRELOAD=/x.so"], cwd: "/srv", user: "app"),
            WorkloadBinding(argv: ["/server", "--port", "8443"], env: ["PATH=/bin"], cwd: "/", user: "app"),
            WorkloadBinding(argv: ["/server", "--port", "8443"], env: ["PATH=/bin"], cwd: "/srv", user: ""),
            // The same characters split differently between fields.
            WorkloadBinding(argv: ["/server", "--port8443"], env: ["PATH=/bin"], cwd: "/srv", user: "app"),
            WorkloadBinding(argv: ["/server", "--port", "8443", "PATH=/bin"], env: [], cwd: "/srv", user: "app"),
        ]
        for other in others { #expect(other != binding) }
        #expect(binding.digest.count == 32)
        // Golden: SHA-256 of the documented encoding, computed independently (python3 hashlib over
        // "coffer-workload\0" | argv | env | cwd | user, BE32-length-prefixed), so an encoding
        // change fails here.
        #expect(Hex.encode(binding.digest) == "c55b120531b9a6076d74665291ee148bf9b6902db9424469a946f1701df1f0de")
        // What a start request asks for, minus the terminal flags.
        let request = StartProcess(argv: ["/server", "--port", "8443"], env: ["PATH=/bin"], cwd: "/srv", user: "app", tty: true, stdin: true)
        #expect(WorkloadBinding(request) == binding)
    }

    @Test func parsesOnlyOneWellFormedArgument() throws {
        let line = "console=ttyS0 coffer.exec=deny \(binding.kernelArgument) panic=-1"
        #expect(try WorkloadBinding.parse(commandLine: KernelCommandLine(line)) == binding)
        #expect(try WorkloadBinding.parse(commandLine: KernelCommandLine("console=ttyS0 coffer.exec=deny")) == nil)
        for bad in [
            "\(binding.kernelArgument) \(binding.kernelArgument)",
            "coffer.workload=abc",
            "coffer.workload=" + String(repeating: "g", count: 64),
            "coffer.workload=" + String(repeating: "0", count: 66),
            "coffer.workload=",
        ] {
            #expect(throws: FieldError.self, "\(bad)") { try WorkloadBinding.parse(commandLine: KernelCommandLine(bad)) }
        }
    }
}
