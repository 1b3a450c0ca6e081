import CofferCore
import CofferWire
import Testing

@Suite struct KernelCommandLineTests {
    func names(_ line: String) throws -> [String] { try KernelCommandLine(line).parameters.map(\.name) }

    /// One parameter to the kernel is one parameter to the agent: a coffer.* inside quotes is not one.
    @Test func quotedTextIsNotAParameter() throws {
        let line = try KernelCommandLine("console=ttyS0 x=\"a coffer.exec=allow \" panic=-1")
        #expect(line.parameters == [
            .init(name: "console", value: "ttyS0"), .init(name: "x", value: "a coffer.exec=allow "), .init(name: "panic", value: "-1"),
        ])
        #expect(try ExecPolicy.parse(commandLine: line) == .deny)
        // A quote may start mid-parameter; it then stays in the value, as the kernel leaves it.
        #expect(try KernelCommandLine("y=a\"b coffer.exec=allow\"").parameters == [.init(name: "y", value: "a\"b coffer.exec=allow\"")])
        // A parameter quoted whole is a parameter: the kernel strips the quotes.
        #expect(try ExecPolicy.parse(commandLine: KernelCommandLine("\"coffer.exec=allow\"")) == .allow)
        #expect(try KernelCommandLine("coffer.net=\"user\"").parameter("coffer.net")?.value == "user")
    }

    @Test func tabsNewlinesAndOtherKernelSpacesSeparate() throws {
        #expect(try names("console=ttyS0\tcoffer.exec=allow\nquiet\r\u{0B}ro\n") == ["console", "coffer.exec", "quiet", "ro"])
        #expect(try ExecPolicy.parse(commandLine: KernelCommandLine("console=ttyS0\tcoffer.exec=allow")) == .allow)
        // 0xA0 is a space in the kernel's ctype table.
        #expect(try KernelCommandLine(bytes: Array("a=1".utf8) + [0xA0] + Array("b".utf8)).parameters.map(\.name) == ["a", "b"])
        #expect(try names("  ") == [])
        #expect(try KernelCommandLine("=x a==b").parameters == [.init(name: "=x", value: nil), .init(name: "a", value: "=b")])
    }

    @Test func cofferParametersAreUniqueAndKnown() throws {
        for bad in ["coffer.exec=allow coffer.exec=deny", "coffer.exec=deny\tcoffer.exec=deny", "coffer.root=00", "coffer.exe=allow", "a\0b"] {
            #expect(throws: FieldError.self, "\(bad)") { try KernelCommandLine(bad) }
        }
    }

    /// The launcher's real line (QEMUCommand.kernelCommandLine + GuestLaunch's arguments) parses.
    @Test func theLaunchersLineParses() throws {
        let policy = ExecPolicy.exact([.init(argv: ["/bin/cat", "/proc/meminfo"], user: "0:0", cwd: "/")])
        let binding = WorkloadBinding(argv: ["/bin/sh"], env: [], cwd: "/", user: "0:0")
        let verity = "coffer.verity=" + String(repeating: "ab", count: 32) + ",00ff,1024"
        let text = "console=ttyS0 panic=-1 rdinit=/init tsc_early_khz=2000000 cryptomgr.notests coffer.net=user \(verity) \(policy.kernelArgument) \(binding.kernelArgument)\n"
        let line = try KernelCommandLine(text)
        #expect(try ExecPolicy.parse(commandLine: line) == policy)
        #expect(try WorkloadBinding.parse(commandLine: line) == binding)
        #expect(line.parameter("coffer.verity")?.value == String(verity.dropFirst("coffer.verity=".count)))
        #expect(line.parameter("coffer.net")?.value == "user")
    }
}
