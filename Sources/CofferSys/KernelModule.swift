import CCofferSys
import Glibc

/// Loading kernel modules from files, as the initramfs carries them.
public enum KernelModule {
    /// Loads the module at `path` with finit_module(2). A module that is already loaded counts as
    /// loaded. Returns false in that case, true when this call loaded it.
    @discardableResult
    public static func load(_ path: String, parameters: String = "") throws(SystemError) -> Bool {
        let fd = try FileDescriptor.open(path, O_RDONLY)
        defer { fd.close() }
        if coffer_finit_module(fd.rawValue, parameters, 0) == 0 { return true }
        if Glibc.errno == EEXIST { return false }
        throw SystemError("finit_module", path)
    }
}
