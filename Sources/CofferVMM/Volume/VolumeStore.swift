import CofferCore
import Foundation

/// Encrypted persistent volumes: `$COFFER_HOME/volumes/<name>/` holds `volume.json` (what the owner
/// asked for) and `disk.img` (the disk the guest opens with dm-integrity under dm-crypt, decision
/// 0023). The host keeps the disk and its description; it never holds the key, and nothing it
/// stores here is trusted by the guest: the guest decides from the disk's own header whether to
/// open or to format it, and opens it only with the key the broker releases to the workload.
public struct VolumeStore: Sendable {
    public let root: String

    public init(home: String) { root = "\(home)/volumes" }

    /// Smallest volume: dm-integrity's superblock and journal take several MiB of any disk.
    public static let minimumSize: UInt64 = 32 << 20
    public static let maximumSize: UInt64 = 16 << 40

    /// A volume's name: 1-64 of `a-z 0-9 . _ -`, starting with a letter or digit (it is a directory).
    public static func validate(name: String) throws(VMMError) {
        let allowed = name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
        guard !name.isEmpty, name.utf8.count <= 64, allowed, let first = name.utf8.first, first != 0x2E, first != 0x5F, first != 0x2D else {
            throw .invalidConfiguration("volume name \"\(name.prefix(80))\": use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
        }
    }

    /// Parses `64M`, `1G`, `512MiB`, `1073741824` (binary units) into bytes, a multiple of 4096.
    public static func parseSize(_ text: String) throws(VMMError) -> UInt64 {
        var digits = Substring(text)
        var unit: UInt64 = 1
        let units: [(suffix: String, shift: UInt64)] = [("KiB", 10), ("MiB", 20), ("GiB", 30), ("TiB", 40), ("K", 10), ("M", 20), ("G", 30), ("T", 40)]
        for (suffix, shift) in units where digits.hasSuffix(suffix) {
            digits = digits.dropLast(suffix.count)
            unit = UInt64(1) << shift
            break
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let count = UInt64(digits), count.multipliedReportingOverflow(by: unit).overflow == false else {
            throw .invalidConfiguration("volume size \"\(text.prefix(40))\": give bytes or a number with K, M, G or T (binary units), e.g. 256M")
        }
        let size = count * unit
        guard size >= minimumSize, size <= maximumSize else {
            throw .invalidConfiguration("volume size \(text): must be between 32M and 16T")
        }
        guard size % 4096 == 0 else { throw .invalidConfiguration("volume size \(text): must be a multiple of 4096 bytes") }
        return size
    }

    public func directory(_ name: String) -> String { "\(root)/\(name)" }
    public func disk(_ name: String) -> String { "\(directory(name))/disk.img" }
    private func recordPath(_ name: String) -> String { "\(directory(name))/volume.json" }

    /// Creates the volume's directory, a sparse zero-filled disk of `size` bytes (all zeros is what
    /// the guest formats on first use), then the record, which makes it a volume. Under a lock, so
    /// two concurrent creates of one name cannot both succeed; a failure leaves nothing behind.
    @discardableResult
    public func create(name: String, size: UInt64, key: String, now: Date = Date()) throws(VMMError) -> VolumeRecord {
        try Self.validate(name: name)
        return try lockedUpdate {
            let path = directory(name)
            guard !FileManager.default.fileExists(atPath: path) else {
                throw VMMError.invalidConfiguration("a volume named \(name) exists already: `coffer volume rm \(name)` removes it and its data")
            }
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            } catch { throw VMMError.file(path: path, reason: "cannot be created: \(error.localizedDescription)") }
            do {
                let fd = open(disk(name), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw VMMError.file(path: disk(name), reason: String(cString: strerror(errno))) }
                defer { close(fd) }
                guard ftruncate(fd, off_t(size)) == 0, fsync(fd) == 0 else {
                    throw VMMError.file(path: disk(name), reason: "cannot be sized to \(size) bytes: \(String(cString: strerror(errno)))")
                }
                let record = VolumeRecord(name: name, size: size, key: key, created: now.timeIntervalSince1970.rounded(.down))
                try VMDirectory.write(record, to: recordPath(name))
                return record
            } catch {
                try? FileManager.default.removeItem(atPath: path)
                throw error as? VMMError ?? .file(path: path, reason: "\(error)")
            }
        }
    }

    /// Every volume, by name. A directory without a readable record is skipped (being made or removed).
    public func list() -> [VolumeRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { try? VMDirectory.read(VolumeRecord.self, from: recordPath($0)) }
    }

    public func record(_ name: String) throws(VMMError) -> VolumeRecord {
        try Self.validate(name: name)
        guard FileManager.default.fileExists(atPath: recordPath(name)) else {
            throw .invalidConfiguration("no volume named \(name): `coffer volume ls` lists them, `coffer volume create` makes one")
        }
        return try VMDirectory.read(VolumeRecord.self, from: recordPath(name))
    }

    /// What the disk's first bytes say, as the guest will judge them.
    public func state(_ name: String) -> VolumeRecord.DiskState {
        guard let handle = FileHandle(forReadingAtPath: disk(name)) else { return .missing }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: VolumeRecord.formatProbeBytes)) ?? Data()
        if head.starts(with: VolumeRecord.integrityMagic) { return .formatted }
        return head.allSatisfy { $0 == 0 } ? .unformatted : .foreign
    }

    /// Removes the volume and its data: the record first, so a half-removed volume is not listed.
    public func remove(_ name: String) throws(VMMError) {
        _ = try record(name)
        try lockedUpdate {
            do {
                try FileManager.default.removeItem(atPath: recordPath(name))
                try FileManager.default.removeItem(atPath: directory(name))
            } catch { throw VMMError.file(path: directory(name), reason: "cannot be removed: \(error.localizedDescription)") }
        }
    }

    private func lockedUpdate<T>(_ body: () throws -> T) throws(VMMError) -> T {
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch { throw .file(path: root, reason: "cannot be created: \(error.localizedDescription)") }
        let lock = open("\(root)/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw .file(path: "\(root)/.lock", reason: String(cString: strerror(errno))) }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        do { return try body() } catch let error as VMMError { throw error } catch { throw .file(path: root, reason: "\(error)") }
    }
}

/// `volume.json`: what the owner asked for. The host's description only: the guest checks the
/// disk itself and takes its key only from the broker.
public struct VolumeRecord: Codable, Sendable, Equatable {
    public var name: String
    /// The disk's size in bytes.
    public var size: UInt64
    /// The broker resource holding the volume's key, `kbs:///repo/type/tag`.
    public var key: String
    /// Seconds since 1970.
    public var created: Double
    /// The on-disk format (decision 0023).
    public var format: String

    public static let currentFormat = "coffer-volume-1"

    public init(name: String, size: UInt64, key: String, created: Double, format: String = Self.currentFormat) {
        self.name = name
        self.size = size
        self.key = key
        self.created = created
        self.format = format
    }

    /// dm-integrity's superblock magic, at the start of a formatted disk.
    static let integrityMagic = Data("integrt\0".utf8)
    /// A disk is taken as new only when this much of its start is zeros (superblock and journal).
    public static let formatProbeBytes = 1 << 20

    public enum DiskState: String, Sendable {
        /// All zeros where the header goes: the guest formats it on first use.
        case unformatted
        /// A dm-integrity superblock: the guest opens it with the key.
        case formatted
        /// Neither: the guest refuses it and never formats it.
        case foreign
        case missing
    }
}
