@testable import CofferAgent
import CofferSys
import CofferWire
import Glibc
import Testing

/// Each start-up step of the agent fails with its own reason (docs/host-guest-protocol.md,
/// `failure`), played against a fake guest that fails the step chosen.
@Suite struct BootSequenceTests {
    static let root = "coffer.verity=\(String(repeating: "ab", count: 32)),00,16"

    /// A guest whose every step works, but `failing`, and whose command line is `commandLine`.
    struct FakeGuest: BootSystem {
        var failing: String?
        var commandLine = "console=ttyS0 coffer.net=user \(BootSequenceTests.root)"
        let channel: FileDescriptor

        func check(_ step: String) throws {
            if step == failing { throw SystemError("fake \(step)", "in the test", errno: EIO) }
        }
        func mountBaseFileSystems() throws { try check("base") }
        func loadModules() throws -> Int { try check("modules"); return 3 }
        func openChannel() throws -> FileDescriptor { try check("channel"); return channel }
        func readCommandLine() throws -> [UInt8] { try check("cmdline"); return Array(commandLine.utf8) }
        func loadNetworkModules() throws -> Int { try check("netmodules"); return 2 }
        func openVerityRoot(_ root: VerityRoot) throws { try check("verity") }
        func mountOverlay() throws { try check("overlay") }
        func mountWorkloadFileSystems() throws { try check("workloadfs") }
        func configureNetwork(requested: Bool) throws { try check("network") }
    }

    func boot(_ guest: FakeGuest) -> (Result<BootSequence.Booted, AgentFailure>, FileDescriptor?) {
        var channel: FileDescriptor?
        do {
            return (.success(try BootSequence.run(guest, channel: &channel)), channel)
        } catch {
            return (.failure(error), channel)
        }
    }

    @Test func everyStepWorkingBootsWithWhatTheCommandLineSays() throws {
        let (result, channel) = boot(FakeGuest(channel: FileDescriptor(rawValue: 99)))
        let booted = try result.get()
        #expect(channel?.rawValue == 99)
        #expect(booted.modulesLoaded == 3)
        #expect(booted.permission == .deny)
        #expect(booted.root?.dataBlocks == 16)
        #expect(booted.brokerPin == nil)
        let pin = BrokerPin(subjectPublicKeyInfo: [1, 2, 3])
        let (pinned, _) = boot(FakeGuest(commandLine: "console=ttyS0 \(pin.kernelArgument)", channel: FileDescriptor(rawValue: 99)))
        #expect(try pinned.get().brokerPin == pin)
    }

    @Test(arguments: [
        ("base", AgentFailure.Reason.baseFileSystems), ("modules", .modules), ("channel", .channel), ("cmdline", .commandLine),
        ("netmodules", .network), ("verity", .root), ("overlay", .overlay), ("workloadfs", .workloadFileSystems), ("network", .network),
    ])
    func aFailingStepFailsWithItsReason(step: String, reason: AgentFailure.Reason) {
        let (result, channel) = boot(FakeGuest(failing: step, channel: FileDescriptor(rawValue: 99)))
        guard case .failure(let failure) = result else {
            Issue.record("\(step) failed but the guest booted")
            return
        }
        #expect(failure.reason == reason, "\(step): \(failure.message)")
        #expect(failure.id == .agent)
        #expect(failure.message == "fake \(step) in the test: \(String(cString: strerror(EIO))) (errno \(EIO))")
        // Before the channel is open, the failure can reach only the console.
        #expect((channel != nil) == !["base", "modules", "channel"].contains(step))
    }

    /// A measured parameter that does not parse fails the step that reads it.
    @Test(arguments: [
        ("coffer.exec=sometimes", AgentFailure.Reason.execPolicy), ("coffer.workload=zz", .workload),
        ("coffer.verity=notahash,00,16", .root), ("coffer.net=tap", .network), ("coffer.bogus=1", .commandLine),
        ("coffer.exec=allow coffer.exec=deny", .commandLine), ("coffer.kbs=sha256:zz", .broker),
        ("coffer.initdata=sha384:00", .initData),
    ])
    func aParameterThatDoesNotParseFailsItsStep(parameter: String, reason: AgentFailure.Reason) {
        let (result, _) = boot(FakeGuest(commandLine: "console=ttyS0 \(parameter)", channel: FileDescriptor(rawValue: 99)))
        guard case .failure(let failure) = result else {
            Issue.record("\(parameter) booted")
            return
        }
        #expect(failure.reason == reason, "\(parameter): \(failure.message)")
    }

    /// Without a verity root there is nothing to open, overlay or mount: those steps are not run.
    @Test func aVMWithoutAnImageSkipsTheRootSteps() throws {
        for step in ["verity", "overlay", "workloadfs", "netmodules"] {
            let (result, _) = boot(FakeGuest(failing: step, commandLine: "console=ttyS0", channel: FileDescriptor(rawValue: 99)))
            #expect(try result.get().root == nil)
        }
    }
}
