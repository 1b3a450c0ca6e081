import CofferTestSupport
import Foundation
import Testing

/// Encrypted volumes end to end (issue 12, decisions 0022 and 0023): real VMs, a real broker on
/// loopback releasing the volume's key after attestation, the agent opening the disk with
/// device-mapper, and stock tools reading it back. The host here is the test: it looks for the
/// plaintext in the volume file, flips its bytes and kills QEMU in the middle of writes.
@Suite(.serialized) struct EncryptedVolumeCLITests: CofferCLIHarness {
    let coffer = Repository.executable("coffer")
    let runs = RunCLITests()

    /// A store with a kernel, a busybox image `vol:1`, a broker admitting it to `default/volume/*`,
    /// the volume `data` (64 MiB) and its key.
    struct Fixture {
        let home: TemporaryDirectory
        let work: TemporaryDirectory
        let broker: LoopbackBroker
        let image: String
        let rootfs: String
        let key: [UInt8]
        var disk: String { home.file("volumes/data/disk.img") }
        var options: [String] { broker.runOptions + ["-v", "data:/data"] }
    }

    func fixture() throws -> Fixture {
        let home = try runs.storeWithKernel()
        let work = try TemporaryDirectory("coffer-volume")
        let rootfs = try busyboxRoot(in: work, extra: "for tool in dd md5sum sync wc mv rm stat; do ln -s busybox bin/$tool; done")
        let image = try build(home.path, ["--rootfs", rootfs, "-t", "vol:1"]).id
        let broker = try LoopbackBroker(coffer: coffer, home: home.path)
        var key = [UInt8](repeating: 0, count: 96)
        for index in key.indices { key[index] = UInt8.random(in: 0...255) }
        try broker.put("default/volume/data", key)
        try broker.admit(image: image, resources: "default/volume/*")
        let created = try coffer(home.path, ["volume", "create", "data", "--size", "64M", "--key", "kbs:///default/volume/data"])
        guard created.status == 0 else { throw TestFailure("coffer volume create: \(created.stderr)") }
        return Fixture(home: home, work: work, broker: broker, image: image, rootfs: rootfs, key: key)
    }

    func runOnVolume(_ fixture: Fixture, _ script: String, image: String = "vol:1") throws -> CommandResult {
        try coffer(fixture.home.path, ["run", "--rm"] + fixture.options + [image, "/bin/sh", "-c", script])
    }

    /// The first run formats the blank disk; a second run reopens it and the data is there; the
    /// volume file never holds the plaintext; stock integritysetup and cryptsetup (decision 0023's
    /// recipe) read the same file back; another image is denied the key; a wrong key is refused.
    @Test func aVolumeKeepsItsDataHoldsNoPlaintextAndOpensWithStockTools() throws {
        let fixture = try fixture()
        let marker = "coffer-plaintext-\(UUID().uuidString)"
        let first = try runOnVolume(fixture, "echo \(marker) > /data/note.txt && sync /data/note.txt && cat /data/note.txt && stat -c '%u:%g %a' /data")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "\(marker)\n0:0 755\n", "\(first.stdout)")
        let second = try runOnVolume(fixture, "cat /data/note.txt")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout == "\(marker)\n")

        // The host's copy: no plaintext anywhere in it, and no byte of the key.
        let disk = try Data(contentsOf: URL(fileURLWithPath: fixture.disk))
        #expect(disk.range(of: Data(marker.utf8)) == nil, "the volume file holds the plaintext")
        #expect(disk.range(of: Data(fixture.key[0..<32])) == nil && disk.range(of: Data(fixture.key[32..<96])) == nil)

        // The owner, holding the key, opens it on another Linux machine with stock tools.
        #expect(try StockVolumeTools.openWithStockTools(disk: fixture.disk, key: fixture.key, file: "note.txt") == "\(marker)\n")

        // Another image (another id, another measurement) is not given the volume's key.
        let other = try build(fixture.home.path, ["--rootfs", fixture.rootfs, "-t", "other:1", "-e", "X=1"]).id
        let denied = try runOnVolume(fixture, "cat /data/note.txt", image: other)
        #expect(denied.status != 0)
        #expect(denied.stderr.contains("(reason broker)") && denied.stderr.contains("image_id"), "\(denied.stderr)")
        #expect(!denied.stdout.contains(marker))

        // A wrong key does not open the volume, and it is never reformatted.
        try fixture.broker.put("default/volume/data", [UInt8](repeating: 7, count: 96))
        let wrong = try runOnVolume(fixture, "cat /data/note.txt")
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("(reason volume)") && wrong.stderr.contains("does not open"), "\(wrong.stderr)")
        try fixture.broker.put("default/volume/data", fixture.key)
        #expect(try runOnVolume(fixture, "cat /data/note.txt").stdout == "\(marker)\n")
    }

    /// Bytes the host flips in the volume file make the guest's read fail (or the volume refuse to
    /// open): never a success with other data.
    @Test func flippedBytesAreIntegrityErrorsNeverOtherData() throws {
        let fixture = try fixture()
        let written = try runOnVolume(fixture, "dd if=/dev/urandom of=/data/big bs=1048576 count=24 2>/dev/null && sync /data/big && md5sum /data/big")
        #expect(written.status == 0, "\(written.stderr)")
        let digest = String(written.stdout.prefix(32))
        #expect(digest.count == 32)
        // One byte in every 512 KiB past the first 4 MiB (dm-integrity's superblock and journal):
        // some land in the file's blocks, some in their tags.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: fixture.disk))
        for offset in stride(from: UInt64(4 << 20), to: UInt64(60 << 20), by: 512 << 10) {
            try handle.seek(toOffset: offset)
            let byte = try handle.read(upToCount: 1) ?? Data([0])
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data([byte[0] ^ 0x5A]))
        }
        try handle.close()
        let read = try runOnVolume(fixture, "if cat /data/big > /dev/null; then md5sum /data/big; else echo read failed; fi")
        let said = read.stdout + read.stderr
        // Either the volume does not open (its metadata was hit) or reading the file fails; a
        // read that succeeds must be the data written (so no digest but that one ever shows).
        #expect(read.stdout.contains("read failed") || said.contains("(reason volume)"), "a tampered volume read cleanly: \(said)")
        #expect(!said.contains("integrity check") || said.contains("(reason volume)"))
        if let other = read.stdout.range(of: "[0-9a-f]{32}", options: .regularExpression) {
            #expect(String(read.stdout[other]) == digest, "the guest read other data: \(read.stdout)")
        }
        #expect(said.contains("integrity") || said.contains("Input/output error") || said.contains("Invalid or incomplete"), "[\(read.stdout)][\(read.stderr)]")
    }

    /// QEMU killed while the workload writes and fsyncs, twenty times in a row: each next run
    /// reopens the volume, and every line the workload had fsync'ed is there.
    @Test func killingQEMUWhileTheWorkloadWritesNeverLosesSyncedData() throws {
        let fixture = try fixture()
        let writer = """
            echo "present $(cat /data/log 2>/dev/null | wc -l)"
            i=$(cat /data/count 2>/dev/null || echo 0)
            while true; do
              i=$((i + 1)); echo "line $i" >> /data/log; sync /data/log
              echo $i > /data/count.new; sync /data/count.new; mv /data/count.new /data/count; sync /data
              echo "synced $i"
            done
            """
        var synced = 0
        for round in 1...20 {
            let started = try coffer(fixture.home.path, ["run", "-d", "--name", "writer"] + fixture.options + ["vol:1", "/bin/sh", "-c", writer])
            try #require(started.status == 0, "round \(round): the volume did not reopen: \(started.stderr)")
            let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            // Wait for a few fsync'ed lines past the last round's, then kill QEMU mid-write.
            let logs = try poll(for: 60, every: 0.2, { try coffer(fixture.home.path, ["logs", "writer"]).stdout }, until: {
                $0.split(separator: "\n").filter { $0.hasPrefix("synced ") }.count >= 3
            })
            let present = logs.split(separator: "\n").first { $0.hasPrefix("present ") }.flatMap { Int($0.dropFirst(8)) }
            #expect((present ?? -1) >= synced, "round \(round): \(present ?? -1) lines survived, \(synced) had been fsync'ed")
            let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.home.file("vms/\(id)/state.json")))) as? [String: Any]
            let qemu = try #require(state?["qemuPID"] as? Int, "no QEMU pid in the VM's state")
            #expect(kill(pid_t(qemu), SIGKILL) == 0)
            _ = try poll(for: 30, every: 0.2, { try coffer(fixture.home.path, ["ps", "-a", "--format", "json"]).stdout }, until: { !$0.contains("\"running\"") })
            let final = try coffer(fixture.home.path, ["logs", "writer"]).stdout
            synced = final.split(separator: "\n").compactMap { $0.hasPrefix("synced ") ? Int($0.dropFirst(7)) : nil }.max() ?? synced
            _ = try coffer(fixture.home.path, ["rm", "-f", "writer"])
        }
        let last = try runOnVolume(fixture, "wc -l < /data/log")
        #expect(last.status == 0, "\(last.stderr)")
        #expect((Int(last.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1) >= synced)
    }
}
