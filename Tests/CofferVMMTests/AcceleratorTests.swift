import CofferVMM
import Foundation
import Testing

@Suite struct AcceleratorTests {
    @Test func autoPrefersKVMOnlyWhenItIsUsableAndNotPVM() {
        let kvm = HostFacts(kvmUsable: true, kvmIsPVM: false, tscKilohertz: nil)
        let pvm = HostFacts(kvmUsable: true, kvmIsPVM: true, tscKilohertz: nil)
        let none = HostFacts(kvmUsable: false, kvmIsPVM: false, tscKilohertz: nil)
        #expect(AcceleratorChoice.choose(.auto, host: kvm).accelerator == .kvm)
        #expect(AcceleratorChoice.choose(.auto, host: pvm).accelerator == .tcg)
        #expect(AcceleratorChoice.choose(.auto, host: pvm).reason.contains("PVM"))
        #expect(AcceleratorChoice.choose(.auto, host: none).accelerator == .tcg)
        #expect(AcceleratorChoice.choose(.fixed(.kvm), host: pvm).accelerator == .kvm)
        #expect(AcceleratorChoice.choose(.fixed(.tcg), host: kvm).accelerator == .tcg)
        #expect(AcceleratorRequest("auto") == .auto)
        #expect(AcceleratorRequest("kvm") == .fixed(.kvm))
        #expect(AcceleratorRequest("hvf") == nil)
    }

    /// On a PVM host (a nested KVM on which stock kernels hang; this machine and CI are such
    /// hosts, with kvm_pvm built in and its parameters under /sys/module) `auto` must pick TCG, and
    /// say why; /dev/kvm's mere presence must not make it pick KVM.
    @Test func onAPVMHostAutoPicksTCG() {
        let facts = HostFacts.probe()
        #expect(facts.kvmUsable == (access("/dev/kvm", R_OK | W_OK) == 0))
        let pvmParameters = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/module/kvm_pvm/parameters")) ?? []
        guard !pvmParameters.isEmpty else { return }  // not a PVM host: the unit cases above cover it
        #expect(facts.kvmIsPVM)
        let choice = AcceleratorChoice.choose(.auto, host: facts)
        #expect(choice.accelerator == .tcg)
        #expect(choice.reason.contains("PVM"), "\(choice.reason)")
    }

    @Test func readsTheTSCRateOnlyWhenTheHostKnowsIt() {
        let known = "processor\t: 0\ncpu MHz\t\t: 2596.142\nflags\t\t: fpu tsc constant_tsc tsc_known_freq\n\nprocessor\t: 1\ncpu MHz\t\t: 1.0\n"
        let scaling = "processor\t: 0\ncpu MHz\t\t: 1800.000\nflags\t\t: fpu tsc constant_tsc\n"
        #expect(HostFacts.tscKilohertz(cpuinfo: known) == 2_596_142)
        #expect(HostFacts.tscKilohertz(cpuinfo: scaling) == nil)
        #expect(HostFacts.tscKilohertz(cpuinfo: "garbage") == nil)
    }
}
