import Foundation

/// One running VM per volume: the VM's monitor holds an exclusive `flock` on each volume's disk
/// file for the VM's life, and a second launch naming the disk is refused while it does. Two
/// guests writing one dm-integrity journal would corrupt it; this says so before QEMU starts
/// (whose own image locking is the backstop). The lock dies with the monitor, so a killed VM
/// leaves nothing stale behind.
public final class VolumeLock {
    private var descriptors: [Int32]

    /// Locks every disk in `paths`, or none: a disk that is locked already is named in the error.
    public init(_ paths: [String]) throws(VMMError) {
        descriptors = []
        for path in paths {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                Self.release(descriptors)
                throw .file(path: path, reason: "the volume's disk cannot be opened: \(String(cString: strerror(errno)))")
            }
            // flock(2) locks are per open file description, so even a second lock from this
            // process on another descriptor is refused: one launch naming a disk twice fails too.
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let busy = errno == EWOULDBLOCK
                let reason = String(cString: strerror(errno))
                close(fd)
                Self.release(descriptors)
                throw .wrongState(busy ? "the volume disk \(path) is in use by another running VM" : "\(path): cannot be locked: \(reason)")
            }
            descriptors.append(fd)
        }
    }

    /// Whether every disk could be locked now (released at once): `run`'s early check.
    public static func check(_ paths: [String]) throws(VMMError) {
        let lock = try VolumeLock(paths)
        lock.unlock()
    }

    public func unlock() {
        Self.release(descriptors)
        descriptors = []
    }

    deinit { Self.release(descriptors) }

    private static func release(_ descriptors: [Int32]) {
        for fd in descriptors { close(fd) }
    }
}
