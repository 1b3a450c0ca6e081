/// One member of a tar archive, with pax and GNU extensions already applied.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular
        case directory
        case symlink
        case hardLink
        case characterDevice
        case blockDevice
        case fifo
    }

    /// The member name as stored (not yet normalized or checked).
    public var path: String
    public var kind: Kind
    /// The target of a symlink or hard link; empty otherwise.
    public var linkTarget: String
    /// Bytes of data that follow the header (only regular files carry data).
    public var size: UInt64
    /// Permission bits, including setuid, setgid and sticky (mode & 0o7777).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var mtime: Int64
    public var mtimeNanoseconds: Int
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Extended attributes from pax `SCHILY.xattr.*` records (e.g. `security.capability`).
    public var extendedAttributes: [String: [UInt8]] = [:]
}
