import CofferCore
import CofferKBSProtocol
import CofferSys
import CofferTestSupport
import CofferWire
import Glibc
import Testing

@testable import CofferAgent

/// Finding a volume's disk by serial in a fake /sys and /dev, and what the attacher tells the
/// workload when a volume cannot be opened (over `VolumeOpenerTests.FakeSystem`).
@Suite struct GuestVolumeAttacherTests {
    /// A fake root with /sys/block/<name>/serial and /dev/<name> for each disk given.
    static func tree(_ disks: [(name: String, serial: String?, node: Bool)]) throws -> TemporaryDirectory {
        let root = try TemporaryDirectory("sysfs")
        try Mount.makeDirectory(root.file("sys/block"))
        for disk in disks {
            try Mount.makeDirectory(root.file("sys/block/\(disk.name)"))
            if let serial = disk.serial { try root.write("sys/block/\(disk.name)/serial", serial) }
            if disk.node { try root.write("dev/\(disk.name)", "") }
        }
        return root
    }

    static let volume = LaunchConfiguration.Volume(name: "data", key: "kbs:///default/volume/data", path: "/data")
    static let keyBytes = [UInt8](repeating: 0x11, count: 32) + [UInt8](repeating: 0x22, count: 64)

    @Test func findsTheDiskWithTheSerialAndNoOther() throws {
        let root = try Self.tree([
            ("vda", "coffer-data\n", true), ("vdb", "coffer-hash\n", true), ("vdc", "coffer-vol0\n", true),
            ("vdd", "coffer-vol10\n", true), ("sda", "coffer-vol1\n", true), ("vde", nil, true),
        ])
        let disks = VirtioDisks(root: root.path, patienceMilliseconds: 0)
        #expect(try disks.lookup(serial: "coffer-vol0") == root.file("dev/vdc"))
        #expect(try disks.lookup(serial: "coffer-vol10") == root.file("dev/vdd"))
        // Only virtio disks (vd*) count, and a serial must match whole, not as a prefix.
        #expect(try disks.lookup(serial: "coffer-vol1") == nil)
        #expect(try disks.lookup(serial: "coffer-vol") == nil)
        #expect(try disks.node(serial: "coffer-data") == root.file("dev/vda"))
    }

    @Test func aDiskWithoutItsNodeIsNotFoundYetAndTheWaitEnds() throws {
        let root = try Self.tree([("vdc", "coffer-vol0\n", false)])
        let disks = VirtioDisks(root: root.path, patienceMilliseconds: 0)
        #expect(try disks.lookup(serial: "coffer-vol0") == nil)
        let error = try #require(throws: SystemError.self) { try disks.node(serial: "coffer-vol0") }
        #expect(error.errno == ENOENT && "\(error)".contains("coffer-vol0"))
    }

    /// The host gave two disks one serial: which one is meant is not for the guest to guess.
    @Test func twoDisksWithOneSerialAreRefused() throws {
        let root = try Self.tree([("vdc", "coffer-vol0\n", true), ("vdd", "coffer-vol0\n", true)])
        let error = try #require(throws: SystemError.self) { try VirtioDisks(root: root.path, patienceMilliseconds: 0).lookup(serial: "coffer-vol0") }
        #expect("\(error)".contains("vdc") && "\(error)".contains("vdd"))
    }

    private func attacher(_ system: VolumeOpenerTests.FakeSystem, root: TemporaryDirectory) -> GuestVolumeAttacher {
        GuestVolumeAttacher(system: system, disks: VirtioDisks(root: root.path, patienceMilliseconds: 0))
    }

    private func failure(_ body: () throws(AgentFailure) -> Void) throws -> AgentFailure {
        do { try body() } catch { return error }
        throw TestFailure("no failure")
    }

    @Test func aBlankDiskIsOpenedAtTheVolumesPathForTheOwner() throws {
        let root = try Self.tree([("vdb", "coffer-vol1\n", true)])
        let system = VolumeOpenerTests.FakeSystem(head: VolumeOpenerTests.blank)
        try attacher(system, root: root).attach(Self.volume, index: 1, key: Self.keyBytes, owner: (1000, 100))
        #expect(system.log.first == "read \(root.file("dev/vdb"))")
        #expect(system.log.contains("mkfs /dev/mapper/coffer-vol1 131064 1000:100"))
        #expect(system.log.last == "mount /dev/mapper/coffer-vol1 /data")
    }

    @Test func aKeyOfTheWrongLengthIsRefusedBeforeTheDiskIsTouched() throws {
        let root = try Self.tree([("vdb", "coffer-vol0\n", true)])
        let system = VolumeOpenerTests.FakeSystem(head: VolumeOpenerTests.blank)
        let error = try failure { () throws(AgentFailure) in try attacher(system, root: root).attach(Self.volume, index: 0, key: [UInt8](repeating: 1, count: 64), owner: (0, 0)) }
        #expect(error.reason == .volume && error.id == .main)
        #expect(error.message == "volume data: the volume key is 64 bytes; a Coffer volume key is 96 random bytes")
        #expect(system.log.isEmpty)
    }

    @Test func aMissingDiskIsNamed() throws {
        let root = try Self.tree([("vdb", "coffer-vol0\n", true)])
        let system = VolumeOpenerTests.FakeSystem(head: VolumeOpenerTests.blank)
        let error = try failure { () throws(AgentFailure) in try attacher(system, root: root).attach(Self.volume, index: 3, key: Self.keyBytes, owner: (0, 0)) }
        #expect(error.reason == .volume && error.id == .main)
        #expect(error.message.hasPrefix("volume data: no disk attached for it") && error.message.contains("coffer-vol3"), "\(error.message)")
        #expect(system.log.isEmpty)
    }

    /// Each refusal of the opener reaches the workload as a volume failure naming the volume, and
    /// none carries the key (or either half of it) in any form.
    @Test func openerRefusalsBecomeVolumeFailuresWithoutTheKey() throws {
        let root = try Self.tree([("vdc", "coffer-vol0\n", true)])
        var foreignHead = VolumeOpenerTests.blank
        foreignHead[100] = 1
        let wrongKey = VolumeOpenerTests.FakeSystem(head: VolumeOpenerTests.formatted, superblockKey: [UInt8](repeating: 0x33, count: 32))
        let tampered = VolumeOpenerTests.FakeSystem(head: VolumeOpenerTests.formatted, superblockKey: Array(Self.keyBytes[0..<32]))
        tampered.plaintextReadFails = true
        let cases: [(VolumeOpenerTests.FakeSystem, String)] = [
            (VolumeOpenerTests.FakeSystem(head: foreignHead), "neither a Coffer volume nor blank"),
            (wrongKey, "the key does not open this volume"),
            (tampered, "fails the integrity check"),
        ]
        for (system, says) in cases {
            let error = try failure { () throws(AgentFailure) in try attacher(system, root: root).attach(Self.volume, index: 0, key: Self.keyBytes, owner: (0, 0)) }
            #expect(error.reason == .volume && error.id == .main)
            #expect(error.message.contains("volume data") && error.message.contains(says), "\(error.message)")
            for secret in [Hex.encode(Self.keyBytes), Hex.encode(Array(Self.keyBytes[0..<32])), Hex.encode(Array(Self.keyBytes[32...]))] {
                #expect(!error.message.contains(secret))
            }
            #expect(!system.log.contains { $0.hasPrefix("mount") })
        }
    }
}
