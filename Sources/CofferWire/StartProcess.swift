import CofferCore

/// Host → guest: start the workload.
///
/// Payload (big-endian; strings and lists as in `WireStrings`):
/// ```
///  uid u32 | gid u32 | cwd string | argv list | env list
/// ```
/// `argv[0]` is the program: an absolute path, or a name looked up in the `PATH` of `env`.
public struct StartProcess: Sendable, Equatable {
    public var argv: [String]
    public var env: [String]
    public var cwd: String
    public var uid: UInt32
    public var gid: UInt32

    public init(argv: [String], env: [String], cwd: String, uid: UInt32, gid: UInt32) {
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.uid = uid
        self.gid = gid
    }

    public var frame: Frame {
        var writer = ByteWriter()
        writer.writeUInt32BE(uid)
        writer.writeUInt32BE(gid)
        writer.writeString(cwd)
        writer.writeStrings(argv)
        writer.writeStrings(env)
        return Frame(.start, writer.bytes)
    }

    /// Parses a `start` frame. An empty argv, a relative cwd or trailing bytes are refused.
    public init(_ frame: Frame) throws(WireError) {
        guard frame.kind == .start else { throw .unexpected(kind: frame.kind, expected: .start) }
        var reader = ByteReader(frame.payload)
        do {
            uid = try reader.readUInt32BE("uid")
            gid = try reader.readUInt32BE("gid")
            cwd = try reader.readString("cwd")
            argv = try reader.readStrings("argv")
            env = try reader.readStrings("env")
        } catch let error as WireError {
            throw error
        } catch {
            throw .malformed(kind: .start, reason: "\(error)")
        }
        guard reader.isAtEnd else { throw .malformed(kind: .start, reason: "\(reader.remaining) trailing bytes") }
        guard let program = argv.first, !program.isEmpty else { throw .malformed(kind: .start, reason: "argv is empty") }
        guard cwd.hasPrefix("/") else { throw .malformed(kind: .start, reason: "cwd \(cwd) is not absolute") }
    }
}
