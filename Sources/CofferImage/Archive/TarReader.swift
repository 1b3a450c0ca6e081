/// Reads a tar archive member by member from a stream, never holding more than one buffer of it.
///
/// Understands POSIX ustar, pax extended headers (`x` for one member, `g` for all that follow),
/// GNU long names (`L`) and long link names (`K`), and base-256 numeric fields. Every header's
/// checksum is verified; an archive that ends before its end-of-archive block is truncated.
final class TarReader {
    let archiveName: String
    private let stream: any ByteStream
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    /// Bytes of the (uncompressed) archive consumed so far.
    private(set) var offset: UInt64 = 0
    private var remainingData: UInt64 = 0
    private var remainingPadding: UInt64 = 0
    private var currentName = ""
    private var global = PaxRecords()

    /// Extended headers and GNU long names are read into memory; a hostile archive could
    /// otherwise claim a multi-gigabyte name and exhaust memory.
    static let metadataLimit: UInt64 = 1 << 20

    var fileBytesRead: UInt64 { stream.fileBytesRead }

    init(stream: any ByteStream, archiveName: String) {
        self.stream = stream
        self.archiveName = archiveName
        buffer = .allocate(byteCount: 1 << 16, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Opens an archive file (plain or gzip tar).
    convenience init(path: String) throws {
        self.init(stream: try ArchiveInput.open(path: path).stream, archiveName: path)
    }

    /// The next member, or nil after the end-of-archive block. Unread data of the previous
    /// member is skipped.
    func next() throws -> TarEntry? {
        try skip(remainingData + remainingPadding, what: "data of member '\(currentName)'")
        remainingData = 0
        remainingPadding = 0
        var local = PaxRecords()
        var longName: [UInt8]?
        var longLink: [UInt8]?
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: TarHeader.blockSize, alignment: 16)
        defer { block.deallocate() }
        while true {
            let headerOffset = offset
            guard try readExactly(into: block, what: "a header") else {
                throw ArchiveError.truncated(archive: archiveName, detail: "it ends without the end-of-archive block after \(offset) bytes")
            }
            if TarHeader.isZeroBlock(UnsafeRawBufferPointer(block)) { return nil }
            let header: TarHeader
            do {
                header = try TarHeader(block: UnsafeRawBufferPointer(block))
            } catch .checksum {
                throw ArchiveError.badChecksum(archive: archiveName, offset: headerOffset)
            } catch {
                let name = String(decoding: Array(block[0..<100].prefix(while: { $0 != 0 })), as: UTF8.self)
                throw ArchiveError.malformedHeader(archive: archiveName, member: name, detail: "\(error)")
            }
            let memberName = String(decoding: longName ?? header.fullName, as: UTF8.self)
            switch header.typeflag {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let body = try readMetadata(size: header.size, member: memberName)
                let records: PaxRecords
                do { records = try PaxRecords(parsing: body) } catch {
                    throw ArchiveError.malformedHeader(archive: archiveName, member: memberName, detail: "pax header: \(error.detail)")
                }
                if header.typeflag == UInt8(ascii: "x") {
                    local = local.overriding(with: records)
                } else {
                    global = global.overriding(with: records)
                }
            case UInt8(ascii: "L"):
                longName = Array(try readMetadata(size: header.size, member: memberName).prefix(while: { $0 != 0 }))
            case UInt8(ascii: "K"):
                longLink = Array(try readMetadata(size: header.size, member: memberName).prefix(while: { $0 != 0 }))
            default:
                let pax = global.overriding(with: local)
                let entry = try makeEntry(header: header, pax: pax, longName: longName, longLink: longLink)
                currentName = entry.path
                remainingData = entry.kind == .regular ? entry.size : 0
                remainingPadding = Self.padding(remainingData)
                return entry
            }
        }
    }

    /// Reads the rest of the stream after the end-of-archive block (tar pads archives to whole
    /// records), so that a gzip stream is inflated to its end and its CRC and length are checked:
    /// a damaged trailer must not pass unnoticed.
    func drain() throws {
        start = end
        while try stream.read(into: buffer) > 0 {}
    }

    /// Reads the current member's data; 0 at its end.
    func readData(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        guard remainingData > 0 else { return 0 }
        let want = Int(min(remainingData, UInt64(destination.count)))
        let got = try readSome(into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<want]))
        guard got > 0 else {
            throw ArchiveError.truncated(archive: archiveName, detail: "member '\(currentName)' is cut short (\(remainingData) bytes of data missing)")
        }
        remainingData -= UInt64(got)
        return got
    }

    private func makeEntry(header: TarHeader, pax: PaxRecords, longName: [UInt8]?, longLink: [UInt8]?) throws -> TarEntry {
        let nameBytes = pax.path ?? longName ?? header.fullName
        let linkBytes = pax.linkpath ?? longLink ?? header.linkname
        let lossyName = String(decoding: nameBytes, as: UTF8.self)
        func malformed(_ detail: String) -> ArchiveError {
            .malformedHeader(archive: archiveName, member: lossyName, detail: detail)
        }
        /// Names reach the kernel as C strings: an embedded NUL would silently shorten them.
        guard !nameBytes.isEmpty, !nameBytes.contains(0), !linkBytes.contains(0),
              let name = String(validating: nameBytes, as: UTF8.self),
              let link = String(validating: linkBytes, as: UTF8.self) else {
            throw malformed("empty name, or a name or link target that is not valid UTF-8")
        }
        let kind: TarEntry.Kind
        switch header.typeflag {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"):
            kind = name.hasSuffix("/") ? .directory : .regular  // pre-POSIX tars mark dirs by '/'
        case UInt8(ascii: "1"): kind = .hardLink
        case UInt8(ascii: "2"): kind = .symlink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        default:
            let flag = Unicode.Scalar(header.typeflag)
            let shown = header.typeflag >= 0x20 && header.typeflag < 0x7F ? "'\(Character(flag))'" : "0x\(String(header.typeflag, radix: 16))"
            throw ArchiveError.unsupportedMemberType(archive: archiveName, member: name, type: "\(shown)\(header.typeflag == UInt8(ascii: "S") ? " (GNU sparse file)" : "")")
        }
        guard let uid = UInt32(exactly: pax.uid ?? header.uid), let gid = UInt32(exactly: pax.gid ?? header.gid) else {
            throw malformed("uid or gid out of range")
        }
        guard let major = UInt32(exactly: header.devmajor), let minor = UInt32(exactly: header.devminor) else {
            throw malformed("device number out of range")
        }
        let size = pax.size ?? header.size
        /// Sizes are added to offsets and padding later; a size near 2^64 must not overflow them.
        guard size <= UInt64(Int64.max) else { throw malformed("size \(size) out of range") }
        return TarEntry(
            path: name, kind: kind, linkTarget: link, size: size,
            mode: UInt32(header.mode & 0o7777), uid: uid, gid: gid,
            mtime: pax.mtime ?? header.mtime, mtimeNanoseconds: pax.mtimeNanoseconds ?? 0,
            deviceMajor: major, deviceMinor: minor, extendedAttributes: pax.xattrs
        )
    }

    private func readMetadata(size: UInt64, member: String) throws -> [UInt8] {
        guard size <= Self.metadataLimit else {
            throw ArchiveError.malformedHeader(archive: archiveName, member: member, detail: "extended header of \(size) bytes exceeds the \(Self.metadataLimit)-byte limit")
        }
        var body = [UInt8](repeating: 0, count: Int(size))
        let complete = try body.withUnsafeMutableBytes { try size == 0 || readExactly(into: $0, what: "an extended header") }
        guard complete else {
            throw ArchiveError.truncated(archive: archiveName, detail: "it ends inside the extended header of '\(member)'")
        }
        try skip(Self.padding(size), what: "an extended header")
        return body
    }

    static func padding(_ size: UInt64) -> UInt64 {
        (UInt64(TarHeader.blockSize) - size % UInt64(TarHeader.blockSize)) % UInt64(TarHeader.blockSize)
    }

    // MARK: Buffered input

    private func fill() throws -> Bool {
        if start < end { return true }
        start = 0
        end = try stream.read(into: buffer)
        return end > 0
    }

    private func readSome(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        guard destination.count > 0, try fill() else { return 0 }
        let n = min(end - start, destination.count)
        destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + n)]))
        start += n
        offset &+= UInt64(n)
        return n
    }

    /// Fills `destination` completely. False when the stream was already at its end; a stream
    /// that ends part way is a truncated archive.
    private func readExactly(into destination: UnsafeMutableRawBufferPointer, what: String) throws -> Bool {
        var filled = 0
        while filled < destination.count {
            let n = try readSome(into: UnsafeMutableRawBufferPointer(rebasing: destination[filled...]))
            if n == 0 {
                if filled == 0 { return false }
                throw ArchiveError.truncated(archive: archiveName, detail: "it ends inside \(what) at byte \(offset)")
            }
            filled += n
        }
        return true
    }

    private func skip(_ count: UInt64, what: String) throws {
        var left = count
        while left > 0 {
            guard try fill() else {
                throw ArchiveError.truncated(archive: archiveName, detail: "it ends inside the \(what) (\(left) bytes missing)")
            }
            let n = Int(min(UInt64(end - start), left))
            start += n
            offset &+= UInt64(n)
            left -= UInt64(n)
        }
    }
}
