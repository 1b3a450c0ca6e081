import CofferSys
import Glibc

/// The virtio-blk disks the launcher attached, found by their serial numbers
/// (`/sys/block/vdX/serial`), not by their order: `coffer-data` and `coffer-hash` for the image's
/// verity root, `coffer-vol<index>` for encrypted volumes.
///
/// Security: the serial is the untrusted host's choice and only says which disk to try. What
/// makes a disk trustworthy is checked on its contents: the verity root hash, a volume's keyed
/// superblock MAC and block tags. Two disks with one serial are refused rather than picked
/// between, so the answer never depends on probe order.
struct VirtioDisks {
    /// Where sysfs and devtmpfs are mounted: "" in the guest (`/sys`, `/dev`), a fake tree in tests.
    var root = ""
    /// How long to wait for a disk to appear: virtio_blk probes asynchronously, so the disks
    /// show up shortly after the module loads.
    var patienceMilliseconds = 5_000

    init(root: String = "", patienceMilliseconds: Int = 5_000) {
        self.root = root
        self.patienceMilliseconds = patienceMilliseconds
    }

    /// The /dev node of the one disk whose serial is `serial`, waiting for it to appear.
    func node(serial: String) throws(SystemError) -> String {
        var waited = 0
        while true {
            if let node = try lookup(serial: serial) { return node }
            guard waited < patienceMilliseconds else { throw SystemError("find the virtio disk", "with serial \(serial)", errno: ENOENT) }
            sleep(milliseconds: 5)
            waited += 5
        }
    }

    /// One look at /sys/block: the node of the disk with `serial`, nil when none has it (yet).
    func lookup(serial: String) throws(SystemError) -> String? {
        var found: [String] = []
        for name in try directoryEntries("\(root)/sys/block") ?? [] where name.hasPrefix("vd") {
            let text = String(decoding: try readFile("\(root)/sys/block/\(name)/serial") ?? [], as: UTF8.self)
            if text.split(separator: "\n", omittingEmptySubsequences: false).first == Substring(serial),
                access("\(root)/dev/\(name)", F_OK) == 0
            {
                found.append("\(root)/dev/\(name)")
            }
        }
        guard found.count <= 1 else {
            throw SystemError("find the virtio disk", "with serial \(serial): \(found.joined(separator: " and ")) both carry it", errno: EEXIST)
        }
        return found.first
    }
}
