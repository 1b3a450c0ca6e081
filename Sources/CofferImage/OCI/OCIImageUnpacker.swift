import Foundation

/// Progress while unpacking an image: which layer, and how far into it.
public struct OCIUnpackProgress: Sendable, Equatable {
    /// 1-based index of the layer being applied.
    public var layer: Int
    public var layerCount: Int
    public var layerDigest: String
    public var tar: TarProgress
}

/// What unpacking an image produced.
public struct OCIUnpackResult: Sendable, Equatable {
    /// The image config's Entrypoint, Cmd, Env, WorkingDir and User.
    public var defaults: ImageDefaults
    /// The layers applied, lowest first, by digest.
    public var layerDigests: [String]
    /// What each layer's extraction did, in the same order.
    public var layerSummaries: [TarSummary]
}

/// Unpacks an OCI image layout directory or a `docker save` archive into a root directory:
/// verifies every blob against its digest, applies the layers in order with their whiteouts, and
/// returns the image config's defaults.
public struct OCIImageUnpacker: Sendable {
    /// An OCI image layout directory, a `docker save` archive (tar or gzip tar), or the unpacked
    /// contents of one.
    public let source: String
    public let policy: TarExtractionPolicy
    /// Where a `docker save` archive is unpacked before its layers are read (default: TMPDIR).
    public var scratchDirectory: String?

    public init(source: String, policy: TarExtractionPolicy = TarExtractionPolicy(), scratchDirectory: String? = nil) {
        self.source = source
        self.policy = policy
        self.scratchDirectory = scratchDirectory
    }

    @discardableResult
    public func unpack(into root: String, progress: ((OCIUnpackProgress) -> Void)? = nil) throws -> OCIUnpackResult {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw OCIError.notAnImage(path: source, reason: "it does not exist")
        }
        if isDirectory.boolValue {
            return try unpack(directory: source, into: root, progress: progress)
        }
        let scratch = try makeScratchDirectory()
        defer { _ = removeTree(scratch) }
        /// The archive is untrusted like any other: it is unpacked with the same safe extraction,
        /// without owners, device nodes or extended attributes, before any of its documents are read.
        try TarExtractor(root: scratch, policy: TarExtractionPolicy(preserveOwnership: false, createDeviceNodes: false, preserveExtendedAttributes: false))
            .extract(archivePath: source)
        return try unpack(directory: scratch, into: root, progress: progress)
    }

    private func unpack(directory: String, into root: String, progress: ((OCIUnpackProgress) -> Void)?) throws -> OCIUnpackResult {
        let image: ResolvedImage
        let files = try ImageDirectory(directory)
        if files.regularFile("oci-layout") != nil {
            image = try OCILayout(directory: files).resolve()
        } else if files.regularFile("manifest.json") != nil {
            image = try DockerSaveLayout(directory: files).resolve()
        } else {
            throw OCIError.notAnImage(path: source, reason: "it has neither oci-layout nor manifest.json")
        }
        // Every layer's media type is checked before the first is applied: an unsupported layer
        // stops the build before the root is half made.
        for layer in image.layers { _ = try LayerMediaType(layer.mediaType) }
        var summaries: [TarSummary] = []
        for (i, layer) in image.layers.enumerated() {
            try BlobDigest.verify(file: layer.path, against: layer.digest, size: layer.size)
            let summary = try TarExtractor(root: root, policy: policy).extract(archivePath: layer.path, layer: true) { tar in
                progress?(OCIUnpackProgress(layer: i + 1, layerCount: image.layers.count,
                                            layerDigest: layer.digest.description, tar: tar))
            }
            summaries.append(summary)
        }
        return OCIUnpackResult(defaults: ImageDefaults(image.configuration),
                               layerDigests: image.layers.map(\.digest.description), layerSummaries: summaries)
    }

    private func makeScratchDirectory() throws -> String {
        let base = scratchDirectory ?? (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
        var template = Array((base + "/coffer-oci-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw OCIError.notAnImage(path: source, reason: "cannot make a scratch directory in \(base) to unpack it")
        }
        return String(cString: made)
    }
}
