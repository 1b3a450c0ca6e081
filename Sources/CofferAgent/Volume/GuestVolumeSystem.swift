import CofferExt4
import CofferSys
import Glibc

/// `VolumeSystem` in the guest: O_DIRECT reads and writes on the block devices, the
/// device-mapper ioctls (CofferSys), CofferExt4 for the file system, mount(2).
///
/// Reads and the wipe bypass the page cache (O_DIRECT) for two reasons. A block whose tag fails
/// then fails the read with dm-integrity's own EILSEQ (a buffered read reports a bare EIO), which
/// `VolumeOpener` tells apart from other errors. And nothing read from the raw disk before the
/// device-mapper stack existed can be served again later from a cache.
struct GuestVolumeSystem: VolumeSystem {
    /// Where the workload's root is mounted: "" once the agent has entered it (its `/`).
    var workloadRoot = ""
    /// The wipe's write size: large, so that the wipe costs few system calls.
    static let chunkSize = 1 << 20
    /// O_DIRECT needs buffers, offsets and lengths aligned to the logical block size: 4096 for
    /// dm-crypt with `sector_size:4096`, 512 for the raw disk.
    static let alignment = 4096

    func read(_ path: String, offset: UInt64, count: Int) throws(SystemError) -> [UInt8] {
        guard count >= 0, offset % UInt64(Self.alignment) == 0 else { throw SystemError("read", "\(path) at \(offset)", errno: EINVAL) }
        let fd = try FileDescriptor.open(path, O_RDONLY | FileDescriptor.direct)
        defer { fd.close() }
        let length = (count + Self.alignment - 1) / Self.alignment * Self.alignment
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, Self.alignment), alignment: Self.alignment)
        defer { buffer.deallocate() }
        var done = 0
        while done < length {
            // Sound: reads at most `length - done` bytes into `buffer`, which holds `length`.
            let got = pread(fd.rawValue, buffer.baseAddress! + done, length - done, off_t(offset) + off_t(done))
            if got < 0 {
                let code = Glibc.errno
                if code == EINTR { continue }
                throw SystemError("read", "\(path) at \(offset + UInt64(done))", errno: code)
            }
            if got == 0 { break }
            done += got
        }
        return Array(buffer[0..<min(done, count)])
    }

    func createDevice(name: String, target: String, sectors: UInt64, parameters: String) throws(SystemError) -> String {
        try Mount.makeDirectory("/dev/mapper")
        return try DeviceMapper.create(name: name, target: target, sectors: sectors, parameters: parameters, node: Self.node(name), readOnly: false)
    }

    func removeDevice(name: String) throws(SystemError) {
        try DeviceMapper.remove(name: name)
        unlink(Self.node(name))
    }

    func status(name: String) throws(SystemError) -> String { try DeviceMapper.status(name: name) }

    func zero(_ node: String, sectors: UInt64) throws(SystemError) {
        let fd = try FileDescriptor.open(node, O_WRONLY | FileDescriptor.direct)
        defer { fd.close() }
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: Self.alignment)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        let total = sectors * 512
        var offset: UInt64 = 0
        while offset < total {
            let length = Int(min(UInt64(Self.chunkSize), total - offset))
            // Sound: writes at most `length` bytes of `zeros`, which holds `chunkSize` >= `length`.
            let wrote = pwrite(fd.rawValue, zeros.baseAddress!, length, off_t(offset))
            if wrote < 0 {
                let code = Glibc.errno
                if code == EINTR { continue }
                throw SystemError("write zeros", "\(node) at \(offset)", errno: code)
            }
            guard wrote > 0 else { throw SystemError("write zeros", "\(node) at \(offset): no progress", errno: EIO) }
            offset += UInt64(wrote)
        }
        try BlockDevice.flush(fd, path: node)
    }

    func makeFileSystem(_ node: String, sectors: UInt64, owner: (uid: UInt32, gid: UInt32)) throws(SystemError) {
        let fd = try FileDescriptor.open(node, O_RDWR)
        defer { fd.close() }
        var random = SystemRandomNumberGenerator()
        let uuid = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        do {
            try Ext4.format(
                FileDescriptorBlockDevice(descriptor: fd.rawValue), size: sectors * 512, label: "coffer", uuid: uuid,
                rootOwner: owner, now: UInt32(truncatingIfNeeded: time(nil)))
        } catch let error as Ext4Error {
            if case .io(let operation, let offset, let code) = error { throw SystemError("ext4 \(operation)", "\(node) at \(offset)", errno: code) }
            throw SystemError("make ext4", "on \(node): \(error)", errno: EINVAL)
        } catch {
            throw SystemError("make ext4", "on \(node): \(error)", errno: EIO)
        }
    }

    /// nosuid, nodev: the volume's contents are the workload's data, never a way to set-uid
    /// programs or device nodes into the guest.
    func mount(_ node: String, at path: String) throws(SystemError) {
        try Mount.mount(node, on: workloadRoot + path, type: "ext4", flags: UInt(MS_NOSUID | MS_NODEV))
    }

    static func node(_ name: String) -> String { "/dev/mapper/\(name)" }
}
