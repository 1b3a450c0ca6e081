import CCofferSys
import Glibc

/// Device-mapper devices built through the ioctl interface (`/dev/mapper/control`), without
/// dmsetup, libdevmapper or udev.
public enum DeviceMapper {
    /// Creates and activates read-only device `name` with one `target` (e.g. "verity") over
    /// `sectors` 512-byte sectors, and makes the block node `node` for it. Returns `node`.
    public static func createReadOnly(
        name: String, target: String, sectors: UInt64, parameters: String, node: String
    ) throws(SystemError) -> String {
        try create(name: name, target: target, sectors: sectors, parameters: parameters, node: node, readOnly: true)
    }

    /// Creates and activates device `name` (writable unless `readOnly`) with one `target` over
    /// `sectors` 512-byte sectors, and makes the block node `node` for it. Returns `node`.
    public static func create(
        name: String, target: String, sectors: UInt64, parameters: String, node: String, readOnly: Bool
    ) throws(SystemError) -> String {
        var major: UInt32 = 0, minor: UInt32 = 0
        guard coffer_dm_create(name, target, sectors, parameters, readOnly ? 1 : 0, &major, &minor) == 0 else {
            // Taken before anything else runs: callers act on it (EILSEQ: a dm-integrity
            // superblock whose MAC does not verify under the key given).
            let code = Glibc.errno
            throw SystemError("device-mapper create \(target)", name, errno: code)
        }
        // No udev: make the node from the device number the kernel returned.
        unlink(node)
        guard coffer_mknod_block(node, major, minor) == 0 else { throw SystemError("mknod", node) }
        return node
    }

    /// Removes device `name` (its node stays until unlinked).
    public static func remove(name: String) throws(SystemError) {
        guard coffer_dm_remove(name) == 0 else {
            let code = Glibc.errno
            throw SystemError("device-mapper remove", name, errno: code)
        }
    }

    /// The status line of device `name`'s first target (DM_TABLE_STATUS, info type).
    public static func status(name: String) throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        guard coffer_dm_status(name, &buffer, UInt32(buffer.count)) == 0 else { throw SystemError("device-mapper status", name) }
        // Sound: coffer_dm_status NUL-terminates within the buffer.
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
