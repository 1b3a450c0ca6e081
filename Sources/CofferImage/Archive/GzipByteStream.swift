import CZlib

/// The inflated contents of a gzip file (RFC 1952), streamed through zlib.
///
/// Handles multi-member files (concatenated gzip streams, as `cat a.gz b.gz` or pigz make) and
/// zero padding after the last member (as some tape tools write). Anything else after a member is
/// an error rather than silently ignored data.
final class GzipByteStream: ByteStream {
    private let source: any ByteStream
    private let name: String
    /// zlib keeps a pointer back to its z_stream, so the stream lives at a fixed address.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    /// A member has started and its end has not been seen yet.
    private var inMember = true
    private var finished = false

    var fileBytesRead: UInt64 { source.fileBytesRead }

    init(source: any ByteStream, name: String) throws {
        self.source = source
        self.name = name
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 1 << 16, alignment: 16)
        // windowBits 15 + 32: the largest window, with automatic gzip/zlib header detection.
        let rc = inflateInit2_(stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            input.deallocate()
            throw ArchiveError.corruptGzip(archive: name, reason: "zlib could not start (code \(rc))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, buffer.count > 0, let out = buffer.baseAddress else { return 0 }
        stream.pointee.next_out = out.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(clamping: buffer.count)
        let requested = stream.pointee.avail_out
        while stream.pointee.avail_out == requested {
            if stream.pointee.avail_in == 0 {
                guard try refill() else {
                    if inMember {
                        throw ArchiveError.corruptGzip(archive: name, reason: "unexpected end of compressed data")
                    }
                    finished = true
                    return 0
                }
            }
            if !inMember {
                guard try startNextMember() else {
                    finished = true
                    return 0
                }
            }
            let rc = inflate(stream, Z_NO_FLUSH)
            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                inMember = false
                if stream.pointee.avail_out != requested { break }
            case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                continue
            default:
                throw ArchiveError.corruptGzip(archive: name, reason: zlibMessage(rc))
            }
        }
        return Int(requested - stream.pointee.avail_out)
    }

    /// Reads more compressed input; false at the end of the file.
    private func refill() throws -> Bool {
        let n = try source.read(into: input)
        guard n > 0 else { return false }
        stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = UInt32(n)
        return true
    }

    /// After a member ends: another gzip member follows (reset and go on), or zero padding runs to
    /// the end of the file (false), or the rest is garbage (error).
    private func startNextMember() throws -> Bool {
        guard let next = stream.pointee.next_in else { return false }
        if next[0] == 0x1F {
            guard inflateReset(stream) == Z_OK else {
                throw ArchiveError.corruptGzip(archive: name, reason: "zlib could not reset between members")
            }
            inMember = true
            return true
        }
        while true {
            let available = Int(stream.pointee.avail_in)
            if let bytes = stream.pointee.next_in, (0..<available).contains(where: { bytes[$0] != 0 }) {
                throw ArchiveError.corruptGzip(archive: name, reason: "unexpected data after the end of the gzip stream")
            }
            stream.pointee.avail_in = 0
            guard try refill() else { return false }
        }
    }

    private func zlibMessage(_ rc: Int32) -> String {
        if let msg = stream.pointee.msg { return String(cString: msg) }
        switch rc {
        case Z_NEED_DICT: return "stream needs a preset dictionary"
        case Z_MEM_ERROR: return "out of memory"
        default: return "zlib error \(rc)"
        }
    }
}
