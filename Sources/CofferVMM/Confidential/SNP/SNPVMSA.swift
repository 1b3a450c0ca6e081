import CofferCore

/// The VMSA page of one vCPU of an SEV-SNP guest launched by QEMU/KVM: the x86 reset state
/// (QEMU target/i386/cpu.c `x86_cpu_reset_hold`, AMD APM volume 2 section 14.1.3 "Processor
/// Initialization State") as KVM copies it into the encrypted save area before
/// SNP_LAUNCH_UPDATE, with KVM's own EFER.SVME and CR4.MCE, RDX = the CPUID signature and the
/// guest's SEV_FEATURES. The bootstrap processor starts at the reset vector 0xfffffff0; the
/// application processors at the firmware's SEV-ES AP reset EIP (its footer table).
///
/// Fields at their offsets in the state save area (AMD APM volume 2, appendix B, table B-4
/// "VMSA Layout, State Save Area for SEV-ES"); everything else is zero. Segments are
/// selector u16 | attributes u16 | limit u32 | base u64.
/// ```
/// 0x000 ES  0x010 CS  0x020 SS  0x030 DS  0x040 FS  0x050 GS  0x060 GDTR  0x070 LDTR  0x080 IDTR  0x090 TR
/// 0x0d0 EFER  0x148 CR4  0x158 CR0  0x160 DR7  0x168 DR6  0x170 RFLAGS  0x178 RIP  0x268 G_PAT
/// 0x310 RDX  0x3b0 SEV_FEATURES  0x3e8 XCR0  0x408 MXCSR u32  0x410 X87 FCW u16
/// ```
public enum SNPVMSA {
    public static let bspResetEIP: UInt32 = 0xffff_fff0

    /// The page of a vCPU starting at `eip`.
    public static func page(eip: UInt32, vcpu: SNPVCPUType, sevFeatures: UInt64) -> [UInt8] {
        var page = [UInt8](repeating: 0, count: SNPLaunchDigest.pageSize)
        func put(_ value: UInt64, at offset: Int, width: Int) {
            for i in 0..<width { page[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        func segment(_ offset: Int, selector: UInt16, attributes: UInt16, limit: UInt32 = 0xffff, base: UInt64 = 0) {
            put(UInt64(selector), at: offset, width: 2)
            put(UInt64(attributes), at: offset + 2, width: 2)
            put(UInt64(limit), at: offset + 4, width: 4)
            put(base, at: offset + 8, width: 8)
        }
        // Real mode: CS:IP = 0xf000:(eip & 0xffff) with the hidden base at the top of the reset
        // vector's 64 KiB, so the first fetch is at `eip`.
        segment(0x000, selector: 0, attributes: 0x93)  // ES: present, writable data, accessed
        segment(0x010, selector: 0xf000, attributes: 0x9b, base: UInt64(eip & 0xffff_0000))  // CS: present code, readable, accessed
        segment(0x020, selector: 0, attributes: 0x93)  // SS
        segment(0x030, selector: 0, attributes: 0x93)  // DS
        segment(0x040, selector: 0, attributes: 0x93)  // FS
        segment(0x050, selector: 0, attributes: 0x93)  // GS
        segment(0x060, selector: 0, attributes: 0)  // GDTR
        segment(0x070, selector: 0, attributes: 0x82)  // LDTR: present LDT
        segment(0x080, selector: 0, attributes: 0)  // IDTR
        segment(0x090, selector: 0, attributes: 0x8b)  // TR: present busy 32-bit TSS
        put(0x1000, at: 0x0d0, width: 8)  // EFER.SVME (KVM)
        put(0x40, at: 0x148, width: 8)  // CR4.MCE (KVM)
        put(0x10, at: 0x158, width: 8)  // CR0.ET
        put(0x400, at: 0x160, width: 8)  // DR7
        put(0xffff_0ff0, at: 0x168, width: 8)  // DR6
        put(0x2, at: 0x170, width: 8)  // RFLAGS: the reserved bit 1
        put(UInt64(eip & 0xffff), at: 0x178, width: 8)  // RIP
        put(0x0007_0406_0007_0406, at: 0x268, width: 8)  // G_PAT: the PAT reset value (APM volume 2, A.3)
        put(UInt64(vcpu.signature), at: 0x310, width: 8)  // RDX: the CPUID signature at reset
        put(sevFeatures, at: 0x3b0, width: 8)
        put(0x1, at: 0x3e8, width: 8)  // XCR0: x87
        put(0x1f80, at: 0x408, width: 4)  // MXCSR reset value
        put(0x37f, at: 0x410, width: 2)  // x87 FCW reset value
        return page
    }
}
