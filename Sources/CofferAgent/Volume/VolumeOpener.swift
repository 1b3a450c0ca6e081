import CofferSys
import Glibc

/// What opening a volume needs from the guest: the disk, device-mapper, the formatter, mount.
/// Real system calls in the guest (`GuestVolumeSystem`), a recording fake in tests.
protocol VolumeSystem {
    /// `count` bytes at `offset` of the block device `path`.
    func read(_ path: String, offset: UInt64, count: Int) throws(SystemError) -> [UInt8]
    /// A writable device-mapper device with one target; returns its node.
    func createDevice(name: String, target: String, sectors: UInt64, parameters: String) throws(SystemError) -> String
    func removeDevice(name: String) throws(SystemError)
    func status(name: String) throws(SystemError) -> String
    /// Writes zeros over the first `sectors` 512-byte sectors of `node`, then flushes.
    func zero(_ node: String, sectors: UInt64) throws(SystemError)
    /// Makes ext4 on a zeroed `node` of `sectors` sectors, its root directory owned by `owner`.
    func makeFileSystem(_ node: String, sectors: UInt64, owner: (uid: UInt32, gid: UInt32)) throws(SystemError)
    func mount(_ node: String, at path: String) throws(SystemError)
}

/// Opens (and on first use makes) one encrypted volume: the steps of decision 0023, in order.
struct VolumeOpener {
    let system: any VolumeSystem

    /// ext4's superblock sits 1024 bytes into the plaintext; its magic 0xEF53 at byte 56 of it.
    static let ext4MagicOffset: UInt64 = 1024 + 56

    /// Opens volume `name` from `disk` with `key` and mounts it at `path`. Returns the plaintext node.
    ///
    /// Security: the disk is the host's. Only three states are acted on: a dm-integrity
    /// superblock whose MAC verifies under this key (opened), a disk whose first MiB is zeros
    /// (formatted), and an opened volume whose plaintext start reads cleanly as zeros — the state an
    /// interrupted first format leaves (formatted again). Everything else is refused; a block that
    /// fails its integrity check is never taken as a reason to format.
    @discardableResult
    func open(
        name: String, index: Int, disk: String, key: EncryptedVolume.Key, path: String, owner: (uid: UInt32, gid: UInt32), wiped: Bool = false
    ) throws(VolumeError) -> String {
        let integrity = "coffer-vol\(index)-integrity", crypt = "coffer-vol\(index)"
        let head = try attempt { () throws(SystemError) in try system.read(disk, offset: 0, count: EncryptedVolume.probeSize) }
        let state = EncryptedVolume.classify(head: head)
        if state == .foreign { throw .foreign(name: name) }

        // A blank disk is loaded with 8 sectors first: the kernel writes the superblock and the
        // journal and reports how many data sectors it provides. A formatted one says so in its
        // superblock, which the one table load below checks under the key (`fix_hmac`).
        let wipedNow = state == .blank
        let sectors = wipedNow ? try providedSectors(integrity, disk: disk, key: key, name: name) : try EncryptedVolume.providedSectors(superblock: head)
        if wipedNow { try wipe(integrity: integrity, crypt: crypt, disk: disk, sectors: sectors, key: key) }

        try loadIntegrity(integrity, disk: disk, sectors: sectors, key: key, name: name)
        let plain = try attempt { () throws(SystemError) in
            try system.createDevice(name: crypt, target: "crypt", sectors: sectors,
                                    parameters: EncryptedVolume.cryptParameters(device: "/dev/mapper/\(integrity)", key: key))
        }
        let start: [UInt8]
        do { start = try system.read(plain, offset: 0, count: 4096) } catch {
            throw error.errno == EILSEQ ? .system("volume \(name): its first block fails the integrity check (the host changed the disk)") : .system("\(error)")
        }
        let magic = start[Int(Self.ext4MagicOffset)..<Int(Self.ext4MagicOffset) + 2]
        if magic.elementsEqual([0x53, 0xEF]) {
            // An ext4 volume: this is the case of every run after the first.
        } else if start.allSatisfy({ $0 == 0 }) {
            if !(wiped || wipedNow) {
                // An interrupted first format: superblock and journal made, ext4 not yet. The wipe
                // may not have finished either, so it is done again before the file system.
                try attempt { () throws(SystemError) in
                    try system.removeDevice(name: crypt)
                    try system.removeDevice(name: integrity)
                }
                try wipe(integrity: integrity, crypt: crypt, disk: disk, sectors: sectors, key: key)
                return try open(name: name, index: index, disk: disk, key: key, path: path, owner: owner, wiped: true)
            }
            try attempt { () throws(SystemError) in try system.makeFileSystem(plain, sectors: sectors, owner: owner) }
        } else {
            throw .system("volume \(name): the key opens it but it holds no ext4 file system; refusing to format it")
        }
        try attempt { () throws(SystemError) in try system.mount(plain, at: path) }
        return plain
    }

    /// The journaled integrity table; a superblock whose MAC does not verify under the key (a wrong
    /// key, or one the host edited) fails the load with EILSEQ.
    private func loadIntegrity(_ integrity: String, disk: String, sectors: UInt64, key: EncryptedVolume.Key, name: String) throws(VolumeError) {
        do {
            _ = try system.createDevice(name: integrity, target: "integrity", sectors: sectors,
                                        parameters: EncryptedVolume.integrityParameters(device: disk, mode: .journaled, key: key))
        } catch {
            throw error.errno == EILSEQ ? .wrongKey(name: name) : .system("volume \(name): \(error)")
        }
    }

    private func providedSectors(_ integrity: String, disk: String, key: EncryptedVolume.Key, name: String) throws(VolumeError) -> UInt64 {
        try loadIntegrity(integrity, disk: disk, sectors: 8, key: key, name: name)
        let status = try attempt { () throws(SystemError) in try system.status(name: integrity) }
        try attempt { () throws(SystemError) in try system.removeDevice(name: integrity) }
        return try EncryptedVolume.providedSectors(status: status)
    }

    /// Every data sector written once through dm-crypt over dm-integrity in direct mode: each tag
    /// set, the plaintext zeros (which the formatter relies on). Then both are removed again.
    private func wipe(integrity: String, crypt: String, disk: String, sectors: UInt64, key: EncryptedVolume.Key) throws(VolumeError) {
        try attempt { () throws(SystemError) in
            _ = try system.createDevice(name: integrity, target: "integrity", sectors: sectors,
                                        parameters: EncryptedVolume.integrityParameters(device: disk, mode: .direct, key: key))
            let node = try system.createDevice(name: crypt, target: "crypt", sectors: sectors,
                                               parameters: EncryptedVolume.cryptParameters(device: "/dev/mapper/\(integrity)", key: key))
            try system.zero(node, sectors: sectors)
            try system.removeDevice(name: crypt)
            try system.removeDevice(name: integrity)
        }
    }

    private func attempt<T>(_ body: () throws(SystemError) -> T) throws(VolumeError) -> T {
        do { return try body() } catch { throw .system("\(error)") }
    }
}
