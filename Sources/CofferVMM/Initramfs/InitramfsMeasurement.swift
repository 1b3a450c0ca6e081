import CofferCore

/// What a generated initramfs holds that runs in the guest, file by file, and the digest of the
/// archive as a whole (the one the launch measurement covers).
///
/// The agent and the modules are all of the guest's code besides the kernel: their sizes add up to
/// the guest userspace the trusted computing base carries.
public struct InitramfsMeasurement: Sendable, Equatable {
    /// One file of the archive: its path inside it, its size and its SHA-256.
    public struct Component: Sendable, Equatable {
        /// Relative path inside the initramfs, e.g. `init` or `lib/modules/<release>/kernel/...ko`.
        public var path: String
        public var size: Int
        public var digest: [UInt8]

        /// `sha256` is CofferCore's by default; callers that link a faster one may pass it.
        public init(path: String, bytes: [UInt8], sha256: ([UInt8]) -> [UInt8] = { SHA256Digest.hash($0) }) {
            self.path = path
            size = bytes.count
            digest = sha256(bytes)
        }

        public var digestHex: String { "sha256:" + Hex.encode(digest) }
    }

    /// The agent, `/init`.
    public var agent: Component
    /// The kernel modules, in load order.
    public var modules: [Component]
    /// SHA-256 of the whole archive.
    public var digest: [UInt8]
    /// Size of the whole archive in bytes.
    public var size: Int

    public init(agent: Component, modules: [Component], digest: [UInt8], size: Int) {
        self.agent = agent
        self.modules = modules
        self.digest = digest
        self.size = size
    }

    public var digestHex: String { "sha256:" + Hex.encode(digest) }

    /// Bytes of guest code besides the kernel: the agent and every module.
    public var userspaceSize: Int { modules.reduce(agent.size) { $0 + $1.size } }
}
