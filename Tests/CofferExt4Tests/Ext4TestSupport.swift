import CofferExt4
import CofferTestSupport
import Foundation

/// A sparse, zero-filled image file formatted by `Ext4.format`, with e2fsprogs to inspect it.
struct FormattedImage {
    static let uuid: [UInt8] = [0x6b, 0x1f, 0x3c, 0x52, 0x0d, 0x44, 0x4e, 0x8a, 0x9f, 0x10, 0x2e, 0x7d, 0x61, 0xc3, 0x05, 0xa9]
    static let uuidText = "6b1f3c52-0d44-4e8a-9f10-2e7d61c305a9"
    static let now: UInt32 = 1_767_225_600  // 2026-01-01T00:00:00Z

    let directory: TemporaryDirectory
    let path: String

    init(size: UInt64, label: String = "coffer-data", owner: (UInt32, UInt32) = (1000, 1001), name: String = "disk.img") throws {
        directory = try TemporaryDirectory("coffer-ext4")
        path = directory.file(name)
        try Self.format(path: path, size: size, label: label, owner: owner)
    }

    static func format(path: String, size: UInt64, label: String = "coffer-data", owner: (UInt32, UInt32) = (1000, 1001)) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TestFailure("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw TestFailure("ftruncate: \(String(cString: strerror(errno)))") }
        try Ext4.format(
            FileDescriptorBlockDevice(descriptor: fd), size: size, label: label, uuid: uuid,
            rootOwner: (uid: owner.0, gid: owner.1), now: now)
    }

    /// `e2fsck -fn`: forced full check, answering no to every fix.
    func check() throws -> CommandResult { try run("/usr/sbin/e2fsck", ["-fn", path]) }

    func dumpHeader() throws -> String { try run("/usr/sbin/dumpe2fs", ["-h", path]).stdout }

    func debugfs(_ request: String, writable: Bool = false) throws -> CommandResult {
        try run("/usr/sbin/debugfs", (writable ? ["-w"] : []) + ["-R", request, path])
    }
}

/// The value of `Field name:   value` in dumpe2fs -h output.
func field(_ name: String, in header: String) -> String? {
    for line in header.split(separator: "\n") where line.hasPrefix(name + ":") {
        return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
    }
    return nil
}

/// Records every write, for checks that need no real device.
final class RecordingDevice: BlockDeviceWriter {
    /// With `keepingBytes` false only offsets and lengths are kept (a 16 TiB format writes 1 GiB of bitmaps).
    let keepingBytes: Bool
    var writes: [(offset: UInt64, bytes: [UInt8])] = []
    var lengths: [Int] = []
    var flushes = 0
    init(keepingBytes: Bool = true) { self.keepingBytes = keepingBytes }
    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        writes.append((offset, keepingBytes ? bytes : []))
        lengths.append(bytes.count)
    }
    func flush() throws { flushes += 1 }
}
