import Glibc

/// Leaving the initramfs for the real root, as switch_root does: the initramfs cannot be unmounted
/// or pivoted away (pivot_root refuses rootfs), so the new root is moved over `/` and entered
/// with chroot. The pseudo file systems move along.
public enum RootSwitch {
    /// Moves /proc, /sys and /dev under `newRoot`, moves `newRoot` onto `/` and chroots into it.
    public static func enter(_ newRoot: String, moving mounts: [String] = ["/proc", "/sys", "/dev"]) throws(SystemError) {
        for mount in mounts {
            try Mount.makeDirectory(newRoot + mount)
            guard Glibc.mount(mount, newRoot + mount, nil, UInt(MS_MOVE), nil) == 0 else {
                throw SystemError("mount --move", "\(mount) to \(newRoot)\(mount)")
            }
        }
        guard chdir(newRoot) == 0 else { throw SystemError("chdir", newRoot) }
        guard Glibc.mount(".", "/", nil, UInt(MS_MOVE), nil) == 0 else { throw SystemError("mount --move", "\(newRoot) to /") }
        guard chroot(".") == 0 else { throw SystemError("chroot", newRoot) }
        guard chdir("/") == 0 else { throw SystemError("chdir", "/") }
    }
}
