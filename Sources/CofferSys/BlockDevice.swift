import CCofferSys
import Glibc

/// Calls on open block devices.
public enum BlockDevice {
    /// BLKFLSBUF from <linux/fs.h>: _IO(0x12, 97).
    static let flushBuffersRequest: UInt = 0x1261

    /// fsync(2), which makes every write so far durable down the device stack, then BLKFLSBUF,
    /// which drops the device's cached pages: what was written reads back from the device, not
    /// from memory.
    public static func flush(_ fd: FileDescriptor, path: String) throws(SystemError) {
        while fsync(fd.rawValue) != 0 {
            let code = Glibc.errno
            if code != EINTR { throw SystemError("fsync", path, errno: code) }
        }
        // Sound: BLKFLSBUF takes no argument; the kernel ignores the pointer.
        guard coffer_ioctl_ptr(fd.rawValue, flushBuffersRequest, nil) == 0 else {
            let code = Glibc.errno
            throw SystemError("ioctl BLKFLSBUF", path, errno: code)
        }
    }
}
