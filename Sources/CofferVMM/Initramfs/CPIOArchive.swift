import CofferCore

/// A cpio archive in the `newc` format the Linux kernel unpacks as an initramfs
/// (Documentation/driver-api/early-userspace/buffer-format.rst):
///
/// ```
/// header   "070701" then 13 fields of 8 hex digits: ino mode uid gid nlink mtime filesize
///          devmajor devminor rdevmajor rdevminor namesize check      (110 bytes)
/// name     namesize bytes including the NUL, padded so header+name is a multiple of 4
/// data     filesize bytes (a symlink's data is its target), padded to a multiple of 4
/// ...      the last entry is named "TRAILER!!!"
/// ```
///
/// Deterministic by construction: entries are written sorted by path, every parent directory is
/// written before its children, inode numbers count up from 1, and owner, group and mtime are 0.
public struct CPIOArchive: Sendable {
    public enum Content: Sendable, Equatable {
        case directory
        case file([UInt8])
        case symlink(target: String)
        case characterDevice(major: UInt32, minor: UInt32)
    }

    public struct Entry: Sendable, Equatable {
        /// Relative path without a leading slash, e.g. `dev/console`.
        public var path: String
        public var permissions: UInt32
        public var content: Content
    }

    public private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// Adds (or replaces) an entry and the directories above it.
    public mutating func add(_ path: String, permissions: UInt32, _ content: Content) throws(VMMError) {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !components.isEmpty, !components.contains(where: { $0 == "." || $0 == ".." }) else {
            throw .invalidConfiguration("initramfs path \"\(path)\" is empty or has . or .. components")
        }
        for depth in 1..<components.count {
            let parent = components[0..<depth].joined(separator: "/")
            if let existing = entries[parent], existing.content != .directory {
                throw .invalidConfiguration("initramfs path \(parent) is both a directory and a file")
            }
            entries[parent] = Entry(path: parent, permissions: 0o755, content: .directory)
        }
        if case .file(let bytes) = content, bytes.count > Int(UInt32.max) {
            throw .invalidConfiguration("initramfs file \(path) is larger than newc's 4 GiB limit")
        }
        let normalized = components.joined(separator: "/")
        entries[normalized] = Entry(path: normalized, permissions: permissions & 0o7777, content: content)
    }

    /// The archive's bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: entries.values.reduce(512) { $0 + 128 + $1.path.utf8.count + $1.dataSize })
        var inode: UInt32 = 1
        // Byte order of the UTF-8 paths; a parent is a prefix of its children, so it sorts first.
        for entry in entries.values.sorted(by: { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }) {
            write(entry, inode: inode, into: &writer)
            inode += 1
        }
        write(Entry(path: "TRAILER!!!", permissions: 0, content: .file([])), inode: 0, into: &writer)
        return writer.bytes
    }

    private func write(_ entry: Entry, inode: UInt32, into writer: inout ByteWriter) {
        let name = Array(entry.path.utf8) + [0]
        let (type, nlink, data, rdev): (UInt32, UInt32, [UInt8], (UInt32, UInt32)) =
            switch entry.content {
            case .directory: (0o040000, 2, [], (0, 0))
            case .file(let bytes): (0o100000, 1, bytes, (0, 0))
            case .symlink(let target): (0o120000, 1, Array(target.utf8), (0, 0))
            case .characterDevice(let major, let minor): (0o020000, 1, [], (major, minor))
            }
        let isTrailer = entry.path == "TRAILER!!!"
        let fields: [UInt32] = [
            inode, isTrailer ? 0 : type | entry.permissions, 0, 0, isTrailer ? 1 : nlink, 0,
            UInt32(data.count), 0, 0, rdev.0, rdev.1, UInt32(name.count), 0,
        ]
        writer.write(Array("070701".utf8))
        for field in fields { writer.write(Array(hex8(field).utf8)) }
        writer.write(name)
        writer.writeZeros(padding(110 + name.count))
        writer.write(data)
        writer.writeZeros(padding(data.count))
    }

    private func padding(_ count: Int) -> Int { (4 - count % 4) % 4 }

    private func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

extension CPIOArchive.Entry {
    var dataSize: Int {
        switch content {
        case .file(let bytes): bytes.count
        case .symlink(let target): target.utf8.count
        default: 0
        }
    }
}
