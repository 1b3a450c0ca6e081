import Foundation

/// Decision 0023's "open with stock tools" recipe, as shell lines for `StockToolsVM`: what an
/// owner with the 96-byte key runs on any Linux machine to read a Coffer volume.
public enum StockVolumeTools {
    /// The serial the VM gives the volume's disk.
    public static let serial = "coffer-vol0"

    /// The key's halves as the recipe splits them: K1 (HMAC, bytes 0-31), K2 (AES-XTS-512, 32-95).
    public static func keyFiles(_ key: [UInt8]) throws -> [String: [UInt8]] {
        guard key.count == 96 else { throw TestFailure("a Coffer volume key is 96 bytes, not \(key.count)") }
        return ["key": key]
    }

    /// The recipe, from the key file to the plaintext device at /dev/mapper/data (decision 0023,
    /// "Stock tools"), with the disk found by serial.
    public static let openCommands = """
        head -c 32 /key > /tmp/k1; tail -c 64 /key > /tmp/k2
        DISK=$(disk \(serial)) || exit 10
        integritysetup open $DISK vol --integrity hmac-sha256 --integrity-key-file /tmp/k1 --integrity-key-size 32 \\
            --journal-integrity hmac-sha256 --journal-integrity-key-file /tmp/k1 --journal-integrity-key-size 32 || exit 11
        cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --key-file /tmp/k2 --sector-size 4096 /dev/mapper/vol data || exit 12

        """

    /// Closing in order, so that dm-integrity's journal is flushed before the VM ends.
    public static let closeCommands = """
        cryptsetup close data || exit 21
        integritysetup close vol || exit 22

        """

    /// Opens the volume on `disk` with the recipe, mounts its ext4 read-only and returns the
    /// contents of `file` (a path inside the volume). Fails with the VM's console when any step
    /// does: the exit status says which (10 no disk, 11 integritysetup, 12 cryptsetup, 13 mount,
    /// 14 no such file).
    ///
    /// The end-to-end volume test calls this after a real `coffer run -v` wrote to the volume: it
    /// is the check that what the agent makes is what stock tools open.
    public static func openWithStockTools(disk: String, key: [UInt8], file: String = "hello.txt", vm: StockToolsVM? = nil) throws -> String {
        let vm = try vm ?? StockToolsVM()
        let script = openCommands + """
            mount -t ext4 -o ro /dev/mapper/data /mnt || exit 13
            [ -f "/mnt/\(file)" ] || { ls -la /mnt; exit 14; }
            echo @@begin
            base64 "/mnt/\(file)"
            echo @@end
            umount /mnt

            """ + closeCommands
        let result = try vm.run(script: script, disks: [.init(path: disk, serial: serial)], files: try keyFiles(key))
        guard result.status == 0, let encoded = result.between("@@begin", "@@end") else {
            throw TestFailure("stock tools could not read \(file) from \(disk) (status \(result.status.map(String.init) ?? "none")):\n\(result.console.suffix(4000))")
        }
        guard let data = Data(base64Encoded: encoded.replacingOccurrences(of: "\n", with: "")) else {
            throw TestFailure("the VM printed no base64 for \(file): \(encoded.prefix(200))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
