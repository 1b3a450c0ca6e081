import CofferCore

/// `/etc/ld.so.cache` as written by glibc's ldconfig, new format (glibc sysdeps/generic/dl-cache.h,
/// `struct cache_file_new` and `struct file_entry_new`; all integers in host order, little-endian
/// on x86-64).
///
/// ```
///  header (48 bytes)                        entry (24 bytes), nlibs of them after the header
///   0 magic       "glibc-ld.so.cache" (17)    0 flags   i32  type | required (0x0303 = libc6 x86-64)
///  17 version     "1.1" (3)                   4 key     u32  offset of the library name
///  20 nlibs       u32                         8 value   u32  offset of the library's path
///  24 len_strings u32                        12 osversion_unused u32
///  28 flags       u8 (endianness)            16 hwcap   u64  0 = baseline; bit 62 = glibc-hwcaps
///  29 padding     3
///  32 extension_offset u32
///  36 unused      3 x u32
/// ```
///
/// String offsets count from the start of the new-format header. Caches that still carry the old
/// "ld.so-1.7.0" table first are accepted: the new header follows it, 8-byte aligned.
struct LDSOCache: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var flags: Int32
        var name: String
        var path: String
        var hwcap: UInt64
    }

    /// FLAG_ELF_LIBC6 (0x0003) | FLAG_X8664_LIB64 (0x0300): what ld.so on x86-64 accepts
    /// (sysdeps/unix/sysv/linux/x86_64/dl-cache.h `_DL_CACHE_DEFAULT_ID`).
    static let x8664LibC6: Int32 = 0x0303
    static let newMagic = Array("glibc-ld.so.cache1.1".utf8)
    static let oldMagic = Array("ld.so-1.7.0".utf8)

    var entries: [Entry] = []

    /// The path of `name` for x86-64 libc6, baseline (hwcap 0) entries only, first match in cache
    /// order as ld.so picks it. Entries for glibc-hwcaps subdirectories (x86-64-v2/v3/v4) are
    /// ignored on purpose: which one ld.so takes depends on the CPU that runs it, and an image must
    /// not depend on the build host's CPU.
    func path(of name: String) -> String? {
        entries.first { $0.name == name && $0.flags == Self.x8664LibC6 && $0.hwcap == 0 }?.path
    }

    static func parse(_ bytes: [UInt8], path: String) throws(ELFError) -> LDSOCache {
        do {
            var start = 0
            if bytes.starts(with: oldMagic) {
                var old = ByteReader(bytes, offset: oldMagic.count)
                let count = Int(try old.readUInt32LE("old nlibs"))
                // Old entries are 12 bytes; the new header follows, aligned to 8.
                let (table, overflow) = count.multipliedReportingOverflow(by: 12)
                guard !overflow, table <= bytes.count else {
                    throw ELFError.malformed(path: path, reason: "old-format table of \(count) entries exceeds the file")
                }
                start = (oldMagic.count + 4 + table + 7) & ~7
            }
            var reader = ByteReader(bytes, offset: start)
            guard try reader.read(newMagic.count, "magic") == newMagic else {
                throw ELFError.malformed(path: path, reason: "no \"glibc-ld.so.cache1.1\" header")
            }
            let count = Int(try reader.readUInt32LE("nlibs"))
            _ = try reader.readUInt32LE("len_strings")
            try reader.skip(4 + 4 + 12, "flags, extension_offset, unused")
            var cache = LDSOCache()
            for _ in 0..<count {
                let flags = Int32(bitPattern: try reader.readUInt32LE("entry flags"))
                let key = try reader.readUInt32LE("entry key")
                let value = try reader.readUInt32LE("entry value")
                _ = try reader.readUInt32LE("entry osversion")
                let hwcap = try reader.readUInt64LE("entry hwcap")
                cache.entries.append(Entry(
                    flags: flags,
                    name: try ELFObject.string(in: bytes, at: UInt64(start) + UInt64(key), field: "cache key", path: path),
                    path: try ELFObject.string(in: bytes, at: UInt64(start) + UInt64(value), field: "cache value", path: path),
                    hwcap: hwcap))
            }
            return cache
        } catch let error as ByteReader.Truncated {
            throw error.elfError(path)
        } catch let error as ELFError {
            throw error
        } catch {
            throw .malformed(path: path, reason: "\(error)")
        }
    }
}
