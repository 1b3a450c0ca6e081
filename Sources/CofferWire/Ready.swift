import CofferCore

/// The agent's first message: it runs as PID 1, its modules are loaded and the channel works.
///
/// Payload (big-endian):
/// ```
///  0          2                     10              12
///  +----------+---------------------+---------------+
///  | version  | boot time (ns, u64) | modules (u16) |
///  +----------+---------------------+---------------+
/// ```
/// `boot time` is the guest's CLOCK_BOOTTIME when the message was written: how long the kernel and
/// the agent took, measured inside the guest. `modules` counts the kernel modules loaded.
public struct Ready: Sendable, Equatable {
    /// The protocol version this build speaks; bumped on any incompatible change.
    public static let protocolVersion: UInt16 = 1

    public var version: UInt16
    public var bootNanoseconds: UInt64
    public var modulesLoaded: UInt16

    public init(version: UInt16 = Ready.protocolVersion, bootNanoseconds: UInt64, modulesLoaded: UInt16) {
        self.version = version
        self.bootNanoseconds = bootNanoseconds
        self.modulesLoaded = modulesLoaded
    }

    public var frame: Frame {
        var writer = ByteWriter(capacity: 12)
        writer.writeUInt16BE(version)
        writer.writeUInt64BE(bootNanoseconds)
        writer.writeUInt16BE(modulesLoaded)
        return Frame(.ready, writer.bytes)
    }

    /// Parses a `ready` frame. Trailing bytes are refused: a version that adds fields bumps the
    /// version, so extra bytes mean a confused or hostile peer.
    public init(_ frame: Frame) throws(WireError) {
        guard frame.kind == .ready else { throw .unexpected(kind: frame.kind, expected: .ready) }
        var reader = ByteReader(frame.payload)
        do {
            version = try reader.readUInt16BE("version")
            guard version == Ready.protocolVersion else { throw WireError.versionMismatch(peer: version, ours: Ready.protocolVersion) }
            bootNanoseconds = try reader.readUInt64BE("boot time")
            modulesLoaded = try reader.readUInt16BE("modules")
        } catch let error as WireError {
            throw error
        } catch {
            throw .malformed(kind: .ready, reason: "\(error)")
        }
        guard reader.isAtEnd else { throw .malformed(kind: .ready, reason: "\(reader.remaining) trailing bytes") }
    }
}
