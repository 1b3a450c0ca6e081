import CCofferSys
import Glibc

/// Ending the VM from inside.
public enum Power {
    /// Flushes file systems and powers the VM off. Returns only if the kernel refused, with why.
    public static func off() -> SystemError {
        _ = coffer_power_off()
        return SystemError("reboot", "power off")
    }
}

/// Time since the guest kernel started, including time suspended (CLOCK_BOOTTIME).
public func bootNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_BOOTTIME, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// Sleeps for `milliseconds`.
public func sleep(milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0, Glibc.errno == EINTR { request = remaining }
}
