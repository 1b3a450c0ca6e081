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

    /// This machine's /dev/kvm is PVM: the probe must see it and pick TCG.
    @Test func theProbeSeesThisMachinesPVM() {
        let facts = HostFacts.probe()
        #expect(facts.kvmIsPVM == FileManager.default.fileExists(atPath: "/sys/module/kvm_pvm"))
        if facts.kvmIsPVM { #expect(AcceleratorChoice.choose(.auto, host: facts).accelerator == .tcg) }
    }

    @Test func readsTheTSCRateOnlyWhenTheHostKnowsIt() {
        let known = "processor\t: 0\ncpu MHz\t\t: 2596.142\nflags\t\t: fpu tsc constant_tsc tsc_known_freq\n\nprocessor\t: 1\ncpu MHz\t\t: 1.0\n"
        let scaling = "processor\t: 0\ncpu MHz\t\t: 1800.000\nflags\t\t: fpu tsc constant_tsc\n"
        #expect(HostFacts.tscKilohertz(cpuinfo: known) == 2_596_142)
        #expect(HostFacts.tscKilohertz(cpuinfo: scaling) == nil)
        #expect(HostFacts.tscKilohertz(cpuinfo: "garbage") == nil)
    }
}
