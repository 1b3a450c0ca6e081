import CofferCore
import CofferWire

/// Everything `coffer build` was asked to put in an image, from flags or a Cofferfile.
///
/// Inputs are applied in this order: root file systems and OCI images (in the order given), then
/// files, then binaries with their shared-library closure; a later input replaces what an earlier
/// one put at the same path.
public struct BuildSpec: Sendable {
    public struct Placement: Sendable, Equatable {
        public var source: String
        public var destination: String

        /// Parses `SRC[:DEST]`. Without DEST an absolute SRC keeps its path inside the image and a
        /// relative SRC lands at `/NAME`.
        public init(parsing text: String, flag: String) throws(CofferError) {
            let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let source = parts[0]
            guard !source.isEmpty else { throw CofferError(.invalidInput, "\(flag) \(text): missing source path") }
            let destination: String
            if parts.count == 2 {
                destination = parts[1]
            } else if source.hasPrefix("/") {
                destination = source
            } else {
                destination = "/" + (source.split(separator: "/").last.map(String.init) ?? source)
            }
            try self.init(source: source, destination: destination, flag: flag)
        }

        public init(source: String, destination: String, flag: String) throws(CofferError) {
            guard destination.hasPrefix("/") else {
                throw CofferError(.invalidInput, "\(flag) \(source): destination \(destination) must be an absolute path")
            }
            guard !destination.split(separator: "/").contains("..") else {
                throw CofferError(.invalidInput, "\(flag) \(source): destination \(destination) must not contain ..")
            }
            self.source = source
            self.destination = destination
        }
    }

    public var rootfsArchives: [String] = []
    public var ociImages: [String] = []
    public var files: [Placement] = []
    public var binaries: [Placement] = []

    public var entrypoint: [String]?
    public var cmd: [String]?
    /// `KEY=VALUE`, applied over the OCI image's environment.
    public var env: [String] = []
    public var workdir: String?
    public var user: String?
    /// Default guest memory in bytes.
    public var memoryBytes: UInt64?
    public var exec: ExecPolicy?
    /// The broker signing key the image pins (PEM, already re-encoded), decision 0037.
    public var kbsKey: String?

    public init() {}

    public var isEmpty: Bool { rootfsArchives.isEmpty && ociImages.isEmpty && files.isEmpty && binaries.isEmpty }
}
