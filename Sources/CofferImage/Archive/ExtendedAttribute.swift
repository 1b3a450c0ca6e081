#if canImport(Glibc)
import Glibc
#endif

/// Setting extended attributes. Swift's Glibc module does not include <sys/xattr.h>, so glibc's
/// `lsetxattr` is looked up by name; its C signature is fixed by the Linux ABI
/// (`int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)`),
/// which makes the cast below sound.
enum ExtendedAttribute {
    private typealias SetFunction = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32

    private static func lookUp() -> SetFunction? {
        // RTLD_DEFAULT is the null handle on glibc: search the global symbol scope.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "lsetxattr") else { return nil }
        return unsafeBitCast(symbol, to: SetFunction.self)
    }

    /// Sets `name` on `path` without following a symlink at its end; returns 0, or -1 with errno.
    static func set(path: String, name: String, value: [UInt8]) -> Int32 {
        guard let function = lookUp() else {
            errno = ENOSYS
            return -1
        }
        return value.withUnsafeBytes { bytes in function(path, name, bytes.baseAddress, bytes.count, 0) }
    }
}
