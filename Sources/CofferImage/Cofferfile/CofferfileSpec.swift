import CofferWire

/// A parsed Cofferfile: everything a build needs, with paths made absolute.
///
/// The Cofferfile is YAML (1.1, through Yams). YAML is a superset of JSON, so a Cofferfile may
/// also be written as a JSON object with the same keys. Schema (docs/cofferfile.md has examples):
///
/// ```yaml
/// name: NAME[:TAG]                 # the image's name, optional
/// from:                            # optional; at most one of:
///   rootfs: PATH                   #   a root file system tar (docker export; plain or gzip)
///   oci: PATH                      #   an OCI image layout directory or a docker save archive
/// binaries:                        # ELF programs; their shared libraries are added too
///   - SRC[:DEST]                   #   or {src: SRC, dest: DEST}
/// files:                           # files and directories, copied as they are
///   - SRC[:DEST]                   #   or {src: SRC, dest: DEST}
/// entrypoint: [ARG, ...]
/// cmd: [ARG, ...]
/// env: {KEY: VALUE, ...}           # or [KEY=VALUE, ...]
/// workdir: /ABSOLUTE/PATH
/// user: USER[:GROUP]
/// memory: 512M                     # K, M, G or T (binary units; KiB, MiB... also accepted)
/// exec: deny                       # host-initiated exec: deny (default), allow, or a list of
///                                  # argv prefixes: [[/usr/bin/status], [/bin/cat, /proc/meminfo]]
/// ```
/// Relative SRC and `from` paths are relative to the Cofferfile's directory; DEST is an
/// absolute path in the image. Unknown keys are errors, so that a typo cannot drop configuration.
public struct CofferfileSpec: Sendable, Equatable {
    /// Where the image's root file system starts from.
    public enum Base: Sendable, Equatable {
        case rootfs(String)
        case oci(String)
    }

    /// One file, directory or binary to add: an absolute host path and, when given, the absolute
    /// path it takes in the image (the builder decides the default).
    public struct Copy: Sendable, Equatable {
        public var source: String
        public var destination: String?

        public init(source: String, destination: String? = nil) {
            self.source = source
            self.destination = destination
        }
    }

    public var name: String?
    public var tag: String?
    public var base: Base?
    public var binaries: [Copy] = []
    public var files: [Copy] = []
    public var entrypoint: [String]?
    public var cmd: [String]?
    /// `KEY=VALUE` entries, in the order written.
    public var env: [String] = []
    public var workdir: String?
    public var user: String?
    /// The default guest memory in bytes.
    public var memoryBytes: UInt64?
    public var exec: ExecPolicy = .deny

    public init() {}

    /// `NAME:TAG`, `NAME`, or nil.
    public var reference: String? {
        guard let name else { return nil }
        return tag.map { "\(name):\($0)" } ?? name
    }
}
