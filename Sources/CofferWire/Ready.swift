import CofferCore

/// Guest → host, the agent's first frame: it runs as PID 1, its modules are loaded, the root is
/// mounted and the channel works.
///
/// Payload: `version u16 | boot time ns u64 (CLOCK_BOOTTIME) | modules loaded u16`. A different
/// version is refused, so a launcher never talks to an agent that reads its frames differently.
public struct Ready: WireMessage {
    public static let kind = FrameKind.ready
    /// 2: process ids on every process message, stdin, signals, tty, exec. 3: a `failure` reason
    /// per start-up step (8–15), which a version-2 launcher would refuse as unknown.
    public static let protocolVersion: UInt16 = 4

    public var version: UInt16
    public var bootNanoseconds: UInt64
    public var modulesLoaded: UInt16

    public init(version: UInt16 = Ready.protocolVersion, bootNanoseconds: UInt64, modulesLoaded: UInt16) {
        self.version = version
        self.bootNanoseconds = bootNanoseconds
        self.modulesLoaded = modulesLoaded
    }

    public func write(to writer: inout ByteWriter) {
        writer.writeUInt16BE(version)
        writer.writeUInt64BE(bootNanoseconds)
        writer.writeUInt16BE(modulesLoaded)
    }

    public init(reading reader: inout ByteReader) throws {
        version = try reader.readUInt16BE("version")
        guard version == Ready.protocolVersion else { throw WireError.versionMismatch(peer: version, ours: Ready.protocolVersion) }
        bootNanoseconds = try reader.readUInt64BE("boot time")
        modulesLoaded = try reader.readUInt16BE("modules")
    }
}
