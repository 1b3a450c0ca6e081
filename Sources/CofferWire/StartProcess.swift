import CofferCore

/// Host → guest: start a process. The first `start` after `ready` is the workload the VM was
/// started for (`ProcessID.main`); later ones are `exec` requests, which the agent checks against
/// the image's measured exec policy.
///
/// Payload (big-endian; strings and lists as in `WireStrings`):
/// ```
///  id u32 | flags u8 | rows u16 | cols u16 | user string | cwd string | argv list | env list
/// ```
/// flags: bit 0 `tty` (the process gets a pseudo-terminal as its stdio, sized rows × cols),
/// bit 1 `stdin` (the host streams standard input; otherwise it is /dev/null). `user` is
/// `""`, `NAME`, `UID`, `NAME:GROUP` or `UID:GID`, resolved by the agent in the image's
/// /etc/passwd and /etc/group. `argv[0]` is an absolute path, or a name looked up in the `PATH` of
/// `env`.
public struct StartProcess: WireMessage {
    public static let kind = FrameKind.start

    public var id: ProcessID
    public var argv: [String]
    public var env: [String]
    public var cwd: String
    public var user: String
    public var tty: Bool
    public var stdin: Bool
    public var rows: UInt16
    public var cols: UInt16

    public init(
        id: ProcessID = .main, argv: [String], env: [String], cwd: String, user: String = "", tty: Bool = false,
        stdin: Bool = false, rows: UInt16 = 24, cols: UInt16 = 80
    ) {
        self.id = id
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.user = user
        self.tty = tty
        self.stdin = stdin
        self.rows = rows
        self.cols = cols
    }

    public func write(to writer: inout ByteWriter) {
        writer.write(id)
        writer.writeUInt8((tty ? 1 : 0) | (stdin ? 2 : 0))
        writer.writeUInt16BE(rows)
        writer.writeUInt16BE(cols)
        writer.writeString(user)
        writer.writeString(cwd)
        writer.writeStrings(argv)
        writer.writeStrings(env)
    }

    /// An empty argv, a relative cwd, id 0 or unknown flags are refused.
    public init(reading reader: inout ByteReader) throws {
        id = try reader.readProcessID()
        let flags = try reader.readUInt8("flags")
        guard flags & ~3 == 0 else { throw FieldError("unknown flags 0x\(Hex.encode([flags]))") }
        tty = flags & 1 != 0
        stdin = flags & 2 != 0
        rows = try reader.readUInt16BE("rows")
        cols = try reader.readUInt16BE("cols")
        user = try reader.readString("user")
        cwd = try reader.readString("cwd")
        argv = try reader.readStrings("argv")
        env = try reader.readStrings("env")
        guard id != .agent else { throw FieldError("process id 0 is reserved") }
        guard let program = argv.first, !program.isEmpty else { throw FieldError("argv is empty") }
        guard cwd.hasPrefix("/") else { throw FieldError("cwd \(cwd) is not absolute") }
    }
}
