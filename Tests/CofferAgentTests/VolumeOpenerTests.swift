import CofferCore
import CofferSys
import Glibc
import Testing

@testable import CofferAgent

/// The guest's decisions about a disk the host attached: a fake device-mapper and disk that behave
/// as the kernel does (decision 0023), and the host playing its worst with the disk's contents.
@Suite struct VolumeOpenerTests {
    static let key = try! EncryptedVolume.Key([UInt8](repeating: 0x11, count: 32) + [UInt8](repeating: 0x22, count: 64))

    /// A disk and the kernel's answers. `superblockKey` is the key a formatted disk was made with.
    final class FakeSystem: VolumeSystem {
        var head: [UInt8]
        var superblockKey: [UInt8]?
        var plaintextStart: [UInt8] = [UInt8](repeating: 0, count: 4096)
        var plaintextReadFails = false
        var log: [String] = []

        init(head: [UInt8], superblockKey: [UInt8]? = nil) {
            self.head = head
            self.superblockKey = superblockKey
        }

        func read(_ path: String, offset: UInt64, count: Int) throws(SystemError) -> [UInt8] {
            log.append("read \(path)")
            if path.hasPrefix("/dev/mapper/") {
                if plaintextReadFails { throw SystemError("read", path, errno: EILSEQ) }
                return plaintextStart
            }
            return Array(head.prefix(count))
        }

        func createDevice(name: String, target: String, sectors: UInt64, parameters: String) throws(SystemError) -> String {
            let mode = parameters.split(separator: " ").dropFirst(3).first.map(String.init) ?? "-"
            log.append("create \(name) \(target) \(sectors)\(target == "integrity" ? " \(mode)" : "")")
            if target == "integrity" {
                // As the kernel: a table longer than a formatted superblock provides is refused.
                if superblockKey != nil, head.starts(with: EncryptedVolume.magic), sectors > (try? EncryptedVolume.providedSectors(superblock: head)) ?? 0 {
                    throw SystemError("device-mapper create integrity", name, errno: EINVAL)
                }
                let hmac = parameters.split(separator: " ").first { $0.hasPrefix("internal_hash:") }.map { String($0.dropFirst("internal_hash:hmac(sha256):".count)) }
                if let superblockKey, hmac != Hex.encode(superblockKey) {
                    throw SystemError("device-mapper create integrity", name, errno: EILSEQ)
                }
                if superblockKey == nil { superblockKey = Array(VolumeOpenerTests.key.integrity) }
            }
            return "/dev/mapper/\(name)"
        }

        func removeDevice(name: String) throws(SystemError) { log.append("remove \(name)") }
        func status(name: String) throws(SystemError) -> String { "0 131064 -" }
        func zero(_ node: String, sectors: UInt64) throws(SystemError) {
            log.append("zero \(node) \(sectors)")
            plaintextStart = [UInt8](repeating: 0, count: 4096)
        }
        func makeFileSystem(_ node: String, sectors: UInt64, owner: (uid: UInt32, gid: UInt32)) throws(SystemError) {
            log.append("mkfs \(node) \(sectors) \(owner.uid):\(owner.gid)")
        }
        func mount(_ node: String, at path: String) throws(SystemError) { log.append("mount \(node) \(path)") }
    }

    static let blank = [UInt8](repeating: 0, count: EncryptedVolume.probeSize)
    /// A superblock (version 5, tag size 32, 131064 data sectors) and the rest of its block.
    static let formatted: [UInt8] = {
        var block = EncryptedVolume.magic + [5, 0, 32, 0, 1, 0, 0, 0] + [UInt8](repeating: 7, count: 4080)
        withUnsafeBytes(of: UInt64(131_064).littleEndian) { block.replaceSubrange(16..<24, with: $0) }
        return block
    }()
    static var ext4: [UInt8] {
        var block = [UInt8](repeating: 0, count: 4096)
        block[1024 + 56] = 0x53
        block[1024 + 57] = 0xEF
        return block
    }

    private func open(_ system: FakeSystem, key: EncryptedVolume.Key = key) throws(VolumeError) {
        try VolumeOpener(system: system).open(name: "data", index: 0, disk: "/dev/vdc", key: key, path: "/data", owner: (1000, 1000))
    }

    @Test func aBlankDiskIsFormattedWipedThroughCryptThenMadeExt4AndMounted() throws {
        let system = FakeSystem(head: Self.blank)
        try open(system)
        #expect(system.log == [
            "read /dev/vdc",
            "create coffer-vol0-integrity integrity 8 J", "remove coffer-vol0-integrity",
            "create coffer-vol0-integrity integrity 131064 D", "create coffer-vol0 crypt 131064",
            "zero /dev/mapper/coffer-vol0 131064", "remove coffer-vol0", "remove coffer-vol0-integrity",
            "create coffer-vol0-integrity integrity 131064 J", "create coffer-vol0 crypt 131064",
            "read /dev/mapper/coffer-vol0", "mkfs /dev/mapper/coffer-vol0 131064 1000:1000", "mount /dev/mapper/coffer-vol0 /data",
        ])
    }

    /// A reopen loads the integrity table once, sized from the superblock (no 8-sector probe).
    @Test func aVolumeWithItsFileSystemIsOpenedOnceAndNeverFormatted() throws {
        let system = FakeSystem(head: Self.formatted, superblockKey: Self.key.integrity)
        system.plaintextStart = Self.ext4
        try open(system)
        #expect(system.log == [
            "read /dev/vdc", "create coffer-vol0-integrity integrity 131064 J", "create coffer-vol0 crypt 131064",
            "read /dev/mapper/coffer-vol0", "mount /dev/mapper/coffer-vol0 /data",
        ])
    }

    @Test func aSuperblockCountOfTheWrongShapeIsRefusedBeforeAnyLoad() throws {
        for bad: UInt64 in [0, 4, 131_065, 1 << 60] {
            var head = Self.formatted
            withUnsafeBytes(of: bad.littleEndian) { head.replaceSubrange(16..<24, with: $0) }
            let system = FakeSystem(head: head, superblockKey: Self.key.integrity)
            #expect(throws: VolumeError.self, "\(bad)") { try open(system) }
            #expect(system.log == ["read /dev/vdc"], "\(bad)")
        }
    }

    @Test func aForeignDiskIsRefusedUntouched() throws {
        var head = Self.blank
        head[4000] = 1
        let system = FakeSystem(head: head)
        #expect(throws: VolumeError.foreign(name: "data")) { try open(system) }
        #expect(system.log == ["read /dev/vdc"])
    }

    @Test func aDiskShorterThanTheProbeIsNotBlank() throws {
        let system = FakeSystem(head: [UInt8](repeating: 0, count: 4096))
        #expect(throws: VolumeError.foreign(name: "data")) { try open(system) }
    }

    @Test func theWrongKeyIsRefusedAtTheSuperblockAndNothingIsWritten() throws {
        let system = FakeSystem(head: Self.formatted, superblockKey: [UInt8](repeating: 0x33, count: 32))
        #expect(throws: VolumeError.wrongKey(name: "data")) { try open(system) }
        #expect(!system.log.contains { $0.hasPrefix("zero") || $0.hasPrefix("mkfs") || $0.hasPrefix("mount") })
    }

    @Test func anInterruptedFirstFormatIsWipedAgainAndFormattedOnce() throws {
        let system = FakeSystem(head: Self.formatted, superblockKey: Self.key.integrity)
        try open(system)
        #expect(system.log.filter { $0.hasPrefix("zero") }.count == 1)
        #expect(system.log.filter { $0.hasPrefix("mkfs") }.count == 1)
        #expect(system.log.last == "mount /dev/mapper/coffer-vol0 /data")
    }

    @Test func anOpenedVolumeHoldingSomethingElseIsNotFormatted() throws {
        let system = FakeSystem(head: Self.formatted, superblockKey: Self.key.integrity)
        system.plaintextStart = [UInt8](repeating: 0xAB, count: 4096)
        #expect(throws: VolumeError.self) { try open(system) }
        #expect(!system.log.contains { $0.hasPrefix("zero") || $0.hasPrefix("mkfs") || $0.hasPrefix("mount") })
    }

    /// The host flipped the first block: the read fails its tag, and that is never a reason to format.
    @Test func anIntegrityFailureIsReportedNotFormattedOver() throws {
        let system = FakeSystem(head: Self.formatted, superblockKey: Self.key.integrity)
        system.plaintextReadFails = true
        #expect {
            try open(system)
        } throws: { error in
            "\(error)".contains("fails the integrity check")
        }
        #expect(!system.log.contains { $0.hasPrefix("zero") || $0.hasPrefix("mkfs") || $0.hasPrefix("mount") })
    }

    @Test func aKeyOfAnyOtherLengthIsRefused() {
        for length in [0, 32, 64, 95, 97, 128] {
            #expect(throws: VolumeError.badKey(length: length)) { try EncryptedVolume.Key([UInt8](repeating: 1, count: length)) }
        }
    }

    /// The tables are what stock integritysetup 2.6 and cryptsetup --type plain build for the same
    /// options (decision 0023); changing them makes existing volumes unreadable.
    @Test func tablesAreTheStockToolsOnes() {
        let integrity = EncryptedVolume.integrityParameters(device: "/dev/vdc", mode: .journaled, key: Self.key)
        #expect(integrity == "/dev/vdc 0 32 J 5 block_size:4096 internal_hash:hmac(sha256):\(String(repeating: "11", count: 32)) journal_mac:hmac(sha256):\(String(repeating: "11", count: 32)) fix_padding fix_hmac")
        #expect(!integrity.contains("allow_discards"))
        #expect(EncryptedVolume.cryptParameters(device: "/dev/mapper/i", key: Self.key)
            == "aes-xts-plain64 \(String(repeating: "22", count: 64)) 0 /dev/mapper/i 0 1 sector_size:4096")
    }

    @Test func readsProvidedSectorsFromTheStatusLine() throws {
        #expect(try EncryptedVolume.providedSectors(status: "0 2064392 -") == 2_064_392)
        for bad in ["", "0", "0 x -", "0 7 -", "0 12 -"] {
            #expect(throws: VolumeError.self) { try EncryptedVolume.providedSectors(status: bad) }
        }
    }
}
