import CofferSys
import Glibc

/// The steps from an empty initramfs root to a guest with devices.
enum BootSequence {
    /// Where the initramfs lists the kernel modules to load, one absolute path per line, each after
    /// the modules it depends on (written by the launcher's initramfs builder).
    static let moduleList = "/etc/coffer/modules"

    /// /proc first: the Swift runtime and everything after it read /proc/self. The initramfs ships
    /// a `/proc/self/exe` symlink only so the runtime can start; the real /proc mounts over it.
    static func mountPseudoFileSystems() throws(SystemError) {
        let noSuid = UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)
        try Mount.mount("proc", on: "/proc", type: "proc", flags: noSuid)
        try Mount.mount("sysfs", on: "/sys", type: "sysfs", flags: noSuid)
        try Mount.mount("devtmpfs", on: "/dev", type: "devtmpfs", flags: UInt(MS_NOSUID | MS_NOEXEC), data: "mode=0755")
    }

    /// The modules for the network device, loaded only when the launch asks for a network.
    static let networkModuleList = "/etc/coffer/modules.net"

    /// Loads every module listed in `list` in order; returns how many were loaded.
    static func loadModules(list path: String = moduleList) throws(SystemError) -> Int {
        guard let list = try readFile(path) else { return 0 }
        var loaded = 0
        for line in String(decoding: list, as: UTF8.self).split(separator: "\n") where !line.isEmpty {
            if try KernelModule.load(String(line)) { loaded += 1 }
        }
        return loaded
    }
}
