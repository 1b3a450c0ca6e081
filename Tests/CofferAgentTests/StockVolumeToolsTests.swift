import CofferSys
import CofferTestSupport
import Foundation
import Testing

@testable import CofferAgent

/// Decision 0023's promise, on the real cloud kernel with stock tools (`StockToolsVM`): a volume
/// opens on any Linux machine with integritysetup and cryptsetup and the key.
///
/// The agent's own path (GuestVolumeSystem over the broker's key) needs a launch with a broker;
/// the end-to-end test calls `StockVolumeTools.openWithStockTools` after `coffer run -v` wrote
/// to a volume. Here `VolumeOpener` itself drives the VM: its steps, in its order, with its table
/// strings, played by dmsetup.
@Suite(.serialized) struct StockVolumeToolsTests {
    static let key = (0..<96).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }

    static func blankDisk(_ directory: TemporaryDirectory, size: UInt64 = 32 << 20) throws -> String {
        let path = directory.file("volume.img")
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw TestFailure("cannot create \(path)") }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: size)
        try handle.close()
        return path
    }

    /// The documented commands on a disk stock integritysetup formatted: a file written in one
    /// boot reads back in the next, and the tables the tools load are the agent's.
    @Test func theDocumentedRecipeOpensAVolumeAcrossBoots() throws {
        let vm = try StockToolsVM()
        let work = try TemporaryDirectory("coffer-stock")
        let disk = try Self.blankDisk(work)
        let format = """
            head -c 32 /key > /tmp/k1
            integritysetup format $(disk \(StockVolumeTools.serial)) --batch-mode --sector-size 4096 --integrity hmac-sha256 \\
                --integrity-key-file /tmp/k1 --integrity-key-size 32 --journal-integrity hmac-sha256 \\
                --journal-integrity-key-file /tmp/k1 --journal-integrity-key-size 32 || exit 30

            """
        let write = """
            /sbin/mke2fs -q -t ext4 /dev/mapper/data || exit 31
            mount -t ext4 /dev/mapper/data /mnt || exit 32
            echo "written by stock tools" > /mnt/hello.txt
            umount /mnt
            echo @@tables
            dmsetup table --showkeys vol
            dmsetup table --showkeys data
            echo @@end

            """
        let first = try vm.run(
            script: format + StockVolumeTools.openCommands + write + StockVolumeTools.closeCommands,
            disks: [.init(path: disk, serial: StockVolumeTools.serial)], files: try StockVolumeTools.keyFiles(Self.key))
        #expect(first.status == 0, "\(first.console.suffix(3000))")

        // The agent loads the same tables: every option it passes is in integritysetup's table
        // (which adds the journal geometry it wrote at format), and dm-crypt's is the same line.
        let tables = try #require(first.between("@@tables", "@@end"), "\(first.console.suffix(3000))").split(separator: "\n")
        let opened = try EncryptedVolume.Key(Self.key)
        let integrity = try #require(tables.first).split(separator: " ").map(String.init)
        let ours = EncryptedVolume.integrityParameters(device: "DISK", mode: .journaled, key: opened).split(separator: " ").map(String.init)
        #expect(Array(integrity[2...3]) == ["integrity", integrity[3]] && integrity[4...6] == ours[1...3], "\(integrity)")
        for option in ours.dropFirst(5) { #expect(integrity.contains(option), "\(option) in \(integrity)") }
        let crypt = try #require(tables.last).split(separator: " ").map(String.init)
        let oursCrypt = EncryptedVolume.cryptParameters(device: "DEVICE", key: opened).split(separator: " ").map(String.init)
        #expect(crypt[2] == "crypt" && Array(crypt[3...5]) == Array(oursCrypt[0...2]) && Array(crypt[7...]) == Array(oursCrypt[4...]), "\(crypt)")

        #expect(try StockVolumeTools.openWithStockTools(disk: disk, key: Self.key, vm: vm) == "written by stock tools\n")
    }

    /// `VolumeOpener` formats a blank disk through a system that writes its calls as dmsetup
    /// commands; stock tools then open the result and read the file written on it.
    @Test func whatVolumeOpenerMakesStockToolsOpen() throws {
        let vm = try StockToolsVM()
        let work = try TemporaryDirectory("coffer-stock")
        let disk = try Self.blankDisk(work)
        let system = ScriptedVolumeSystem()
        try VolumeOpener(system: system).open(
            name: "data", index: 0, disk: "$DISK", key: try EncryptedVolume.Key(Self.key), path: "/data", owner: (1000, 1000))
        let script = "DISK=$(disk \(StockVolumeTools.serial)) || exit 10\n" + system.script + """
            echo "written through the agent's tables" > /mnt/data/hello.txt
            stat -c '%u %g' /mnt/data
            umount /mnt/data || exit 40
            dmsetup remove coffer-vol0 && dmsetup remove coffer-vol0-integrity || exit 41

            """
        let first = try vm.run(script: script, disks: [.init(path: disk, serial: StockVolumeTools.serial)])
        #expect(first.status == 0, "\(first.console.suffix(3000))")
        #expect(first.console.contains("\n1000 1000\n"), "the root directory belongs to the owner: \(first.console.suffix(1500))")
        #expect(try StockVolumeTools.openWithStockTools(disk: disk, key: Self.key, vm: vm) == "written through the agent's tables\n")

        // The wrong key: integritysetup refuses the superblock (status 11), nothing is read.
        var wrong = Self.key
        wrong[0] ^= 1
        let refused = #expect(throws: TestFailure.self) { try StockVolumeTools.openWithStockTools(disk: disk, key: wrong, vm: vm) }
        #expect(refused.map { "\($0)".contains("status 11") } == true, "\(String(describing: refused))")
    }

    /// The host flips one byte of one data block: stock tools still open the volume (the
    /// superblock is intact), and that block, only that one, fails to read.
    @Test func aFlippedByteFailsItsBlockOnly() throws {
        let vm = try StockToolsVM()
        let work = try TemporaryDirectory("coffer-stock")
        let disk = try Self.blankDisk(work)
        let format = """
            head -c 32 /key > /tmp/k1
            integritysetup format $(disk \(StockVolumeTools.serial)) --batch-mode --sector-size 4096 --integrity hmac-sha256 \\
                --integrity-key-file /tmp/k1 --integrity-key-size 32 --journal-integrity hmac-sha256 \\
                --journal-integrity-key-file /tmp/k1 --journal-integrity-key-size 32 || exit 30

            """
        let keyFiles = try StockVolumeTools.keyFiles(Self.key)
        let volume = StockToolsVM.Disk(path: disk, serial: StockVolumeTools.serial)
        let made = try vm.run(script: format + StockVolumeTools.openCommands + StockVolumeTools.closeCommands, disks: [volume], files: keyFiles)
        #expect(made.status == 0, "\(made.console.suffix(3000))")

        // Block 100 written once more: on the disk, the highest 4 KiB block that changes is its
        // data (the journal and the tags come before the data in dm-integrity's layout).
        let before = try Data(contentsOf: URL(fileURLWithPath: disk))
        let write = StockVolumeTools.openCommands + """
            dd if=/dev/urandom of=/dev/mapper/data bs=4096 seek=100 count=1 conv=fsync 2>/dev/null || exit 50

            """ + StockVolumeTools.closeCommands
        #expect(try vm.run(script: write, disks: [volume], files: keyFiles).status == 0)
        let after = try Data(contentsOf: URL(fileURLWithPath: disk))
        let block = try #require(stride(from: after.count - 4096, through: 0, by: -4096).first { after[$0..<$0 + 4096] != before[$0..<$0 + 4096] })
        try StockToolsVM.flipByte(of: disk, at: UInt64(block + 1234))

        let read = StockVolumeTools.openCommands + """
            dd if=/dev/mapper/data of=/dev/null bs=4096 skip=99 count=1 iflag=direct 2>/dev/null && echo "block 99 reads"
            dd if=/dev/mapper/data of=/dev/null bs=4096 skip=100 count=1 iflag=direct 2>/dev/null || echo "block 100 fails"

            """ + StockVolumeTools.closeCommands
        let tampered = try vm.run(script: read, disks: [volume], files: keyFiles)
        #expect(tampered.status == 0, "\(tampered.console.suffix(3000))")
        #expect(tampered.console.contains("block 99 reads\n") && tampered.console.contains("block 100 fails\n"), "\(tampered.console.suffix(2000))")
    }
}

/// `VolumeSystem` as a shell script for `StockToolsVM`: each call becomes the dmsetup, dd or
/// mke2fs command doing the same on the real kernel. The disk is blank (the test made it so) and
/// its provided size is the kernel's answer, so the script carries it as $SECTORS.
final class ScriptedVolumeSystem: VolumeSystem {
    /// Stands for $SECTORS in the opener's calls: a size no 32 MiB test disk provides.
    static let placeholder: UInt64 = 999_999_992
    private(set) var script = ""

    private func sectors(_ value: UInt64) -> String { value == Self.placeholder ? "$SECTORS" : "\(value)" }

    func read(_ path: String, offset: UInt64, count: Int) throws(SystemError) -> [UInt8] {
        // The raw disk is blank; the plaintext reads as zeros after the opener's wipe.
        [UInt8](repeating: 0, count: count)
    }

    func createDevice(name: String, target: String, sectors: UInt64, parameters: String) throws(SystemError) -> String {
        // mknodes: the guest has no udev, and the agent makes /dev/mapper/<name> itself too.
        script += "dmsetup create \(name) --table \"0 \(self.sectors(sectors)) \(target) \(parameters)\" && dmsetup mknodes \(name) || exit 31\n"
        return "/dev/mapper/\(name)"
    }

    func removeDevice(name: String) throws(SystemError) { script += "dmsetup remove \(name) || exit 32\n" }

    func status(name: String) throws(SystemError) -> String {
        // dmsetup prints "<start> <length> integrity <mismatches> <provided sectors> -".
        script += "SECTORS=$(dmsetup status \(name) | cut -d' ' -f5); echo \"provided $SECTORS\"\n"
        return "0 \(Self.placeholder) -"
    }

    func zero(_ node: String, sectors: UInt64) throws(SystemError) {
        script += "dd if=/dev/zero of=\(node) bs=4096 count=$((\(self.sectors(sectors)) / 8)) conv=fsync 2>/dev/null || exit 33\n"
    }

    /// mke2fs stands in for CofferExt4, which e2fsck checks on the host (CofferExt4Tests).
    func makeFileSystem(_ node: String, sectors: UInt64, owner: (uid: UInt32, gid: UInt32)) throws(SystemError) {
        script += "/sbin/mke2fs -q -t ext4 -E root_owner=\(owner.uid):\(owner.gid) \(node) || exit 34\n"
    }

    func mount(_ node: String, at path: String) throws(SystemError) {
        script += "mkdir -p /mnt\(path) && mount -t ext4 -o nosuid,nodev \(node) /mnt\(path) || exit 35\n"
    }
}
