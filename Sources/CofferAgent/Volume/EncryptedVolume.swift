import CofferCore

/// An encrypted persistent volume as the guest opens it (decision 0023): dm-integrity with a keyed
/// HMAC-SHA-256 tag per 4 KiB block and a keyed journal MAC, dm-crypt aes-xts-plain64 over it,
/// ext4 inside. Everything here is pure: the device-mapper calls, the disk reads and the
/// formatter are behind `VolumeSystem`.
enum EncryptedVolume {
    /// The key as the broker releases it: 32 bytes of HMAC key (tags and journal), then 64 of
    /// AES-XTS-512 key. Any other length is refused: a short key must never be padded.
    struct Key {
        static let size = 96
        let integrity: [UInt8]
        let encryption: [UInt8]

        init(_ bytes: [UInt8]) throws(VolumeError) {
            guard bytes.count == Self.size else { throw .badKey(length: bytes.count) }
            integrity = Array(bytes[0..<32])
            encryption = Array(bytes[32..<96])
        }
    }

    /// How dm-integrity runs: `D` (direct, no journal) only while the first-use wipe writes every
    /// block once; `J` (journaled: a crash never leaves a block and its tag out of step) otherwise.
    enum Mode: String { case direct = "D", journaled = "J" }

    /// The dm-integrity table parameters (Documentation/admin-guide/device-mapper/dm-integrity.rst):
    /// device, offset 0 (stock integritysetup reads the superblock only there), tag size 32, mode,
    /// then the options in the order integritysetup 2.6 writes them.
    ///
    /// Security: no `allow_discards`: a discarded block's filler tag verifies whatever its data,
    /// so the host could forge it. `journal_mac` keyed with `fix_hmac` MACs the superblock, so a
    /// wrong key is refused at table load (EILSEQ) instead of failing every later read.
    static func integrityParameters(device: String, mode: Mode, key: Key) -> String {
        let hmac = Hex.encode(key.integrity)
        return "\(device) 0 32 \(mode.rawValue) 5 block_size:4096 internal_hash:hmac(sha256):\(hmac) journal_mac:hmac(sha256):\(hmac) fix_padding fix_hmac"
    }

    /// dm-crypt over the integrity device, as `cryptsetup open --type plain --cipher
    /// aes-xts-plain64 --key-size 512 --sector-size 4096` maps it (IVs count 512-byte sectors).
    static func cryptParameters(device: String, key: Key) -> String {
        "aes-xts-plain64 \(Hex.encode(key.encryption)) 0 \(device) 0 1 sector_size:4096"
    }

    /// What the first bytes of a disk say. Only the disk decides; the host's record is not asked.
    enum DiskState: Equatable {
        /// A dm-integrity superblock: open it with the key.
        case formatted
        /// All zeros: a new volume, to be formatted.
        case blank
        /// Anything else: not a volume Coffer made. Refused, never formatted.
        case foreign
    }

    static let magic: [UInt8] = Array("integrt".utf8) + [0]
    /// How much of a disk's start must be zeros for it to count as new (superblock and journal start).
    static let probeSize = 1 << 20

    static func classify(head: [UInt8]) -> DiskState {
        if head.starts(with: magic) { return .formatted }
        return head.count >= probeSize && head.allSatisfy { $0 == 0 } ? .blank : .foreign
    }

    /// The data sectors a formatted disk's superblock says it provides (`provided_data_sectors`,
    /// little-endian u64 at byte 16 of dm-integrity's superblock), so a reopen loads the table once
    /// instead of probing with 8 sectors first.
    ///
    /// Security: the superblock is the host's to write, but `fix_hmac` makes the table load verify
    /// its MAC under the volume key: an edited count fails that load (EILSEQ) like a wrong key, and
    /// a table longer than the superblock's count is refused by the kernel. The value is only
    /// checked for shape here.
    static func providedSectors(superblock head: [UInt8]) throws(VolumeError) -> UInt64 {
        guard head.count >= 24, head.starts(with: magic) else { throw .unexpectedStatus("no dm-integrity superblock") }
        var sectors: UInt64 = 0
        for index in (16..<24).reversed() { sectors = sectors << 8 | UInt64(head[index]) }
        guard sectors >= 8, sectors % 8 == 0, sectors < 1 << 50 else {
            throw .unexpectedStatus("superblock provided_data_sectors \(sectors)")
        }
        return sectors
    }

    /// dm-integrity's status line is `<mismatches> <provided data sectors> <recalculated or ->`.
    static func providedSectors(status: String) throws(VolumeError) -> UInt64 {
        let fields = status.split(separator: " ")
        guard fields.count >= 2, let sectors = UInt64(fields[1]), sectors >= 8, sectors % 8 == 0 else {
            throw .unexpectedStatus(status)
        }
        return sectors
    }
}

/// Why a volume could not be opened or made.
enum VolumeError: Error, Equatable, CustomStringConvertible {
    case badKey(length: Int)
    case foreign(name: String)
    case wrongKey(name: String)
    case unexpectedStatus(String)
    case system(String)

    var description: String {
        switch self {
        case .badKey(let length): "the volume key is \(length) bytes; a Coffer volume key is \(EncryptedVolume.Key.size) random bytes"
        case .foreign(let name):
            "volume \(name): the disk is neither a Coffer volume nor blank; refusing to open or format it"
        case .wrongKey(let name): "volume \(name): the key does not open this volume (its superblock MAC does not verify)"
        case .unexpectedStatus(let status): "dm-integrity reported an unexpected status \"\(status.prefix(80))\""
        case .system(let reason): reason
        }
    }
}
