import CofferImage
import CofferTestSupport
import Foundation
import Testing

/// Images made in the test (an OCI layout with a nested multi-platform index; a `docker save`
/// archive) unpack to the tree their layers describe, whiteouts applied, with the config's
/// defaults; damaged or unsupported images are refused.
@Suite("OCI layout and docker save unpacking")
struct OCIImageUnpackerTests {
    private let expectedDefaults = ImageDefaults(
        entrypoint: ["/bin/tool"], cmd: ["--serve"], env: ["PATH=/usr/bin:/bin", "MODE=test"],
        workingDir: "/opt", user: "1000:1000")

    private func checkTree(_ root: String) throws {
        for (path, content) in OCIImageFixture.expectedFiles {
            #expect((try? String(contentsOfFile: root + "/" + path, encoding: .utf8)) == content, "\(path)")
        }
        for path in OCIImageFixture.absentPaths {
            #expect(ArchiveFileStatus(root + "/" + path) == nil, "\(path) must be gone")
        }
        #expect(archiveListing(root + "/opt/old") == ["later", "new"], "opaque directory keeps only this layer's files")
        #expect(archiveSymlinkTarget(root + "/bin") == "usr/bin")
        let found = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        #expect(!found.contains { $0.split(separator: "/").contains { $0.hasPrefix(".wh.") } }, "no whiteout file lands")
    }

    @Test("an OCI image layout directory, amd64 picked from a nested index")
    func layoutDirectory() throws {
        let scratch = try ArchiveScratch()
        try OCIImageFixture.make(in: scratch.path, format: "oci")
        let root = try scratch.directory("root")
        var layersSeen: Set<Int> = []
        let result = try OCIImageUnpacker(source: scratch.file("layout")).unpack(into: root) { layersSeen.insert($0.layer) }
        try checkTree(root)
        #expect(result.defaults == expectedDefaults)
        #expect(result.layerDigests.count == 3)
        #expect(layersSeen == [1, 2, 3])
        #expect(result.layerSummaries.map(\.whiteouts) == [0, 2, 1])
    }

    @Test("a docker save archive (manifest.json, layers checked against diff_ids)")
    func dockerSave() throws {
        let scratch = try ArchiveScratch()
        try OCIImageFixture.make(in: scratch.path, format: "docker-save")
        let root = try scratch.directory("root")
        let result = try OCIImageUnpacker(source: scratch.file("image.tar")).unpack(into: root)
        try checkTree(root)
        #expect(result.defaults == expectedDefaults)
    }

    /// The archive's own symlinks are clamped to it: a layer file linking to a host file is
    /// looked up inside the unpacked archive, where it does not exist.
    @Test("a docker save archive whose layer file is a symlink to a host file")
    func dockerSaveLinkOut() throws {
        let scratch = try ArchiveScratch()
        try OCIImageFixture.make(in: scratch.path, format: "docker-save", variant: "link-out")
        let error = #expect(throws: OCIError.self) {
            try OCIImageUnpacker(source: scratch.file("image.tar")).unpack(into: try scratch.directory("root"))
        }
        guard case .missingBlob(_, let path)? = error else {
            Issue.record("expected a missing blob, got \(String(describing: error))")
            return
        }
        #expect(path.hasSuffix("/l1/layer.tar"))
    }

    @Test("an OCI layout inside a gzip tar, as newer docker save writes it")
    func layoutInArchive() throws {
        let scratch = try ArchiveScratch()
        try OCIImageFixture.make(in: scratch.path, format: "oci")
        try ArchiveTool.run("tar", ["-czf", scratch.file("image.tar.gz"), "-C", scratch.file("layout"), "."])
        let root = try scratch.directory("root")
        let result = try OCIImageUnpacker(source: scratch.file("image.tar.gz")).unpack(into: root)
        try checkTree(root)
        #expect(result.defaults == expectedDefaults)
    }

    @Test("zstd and unknown layer media types are named, and nothing is applied",
          arguments: [("zstd", "application/vnd.oci.image.layer.v1.tar+zstd (zstd)"),
                      ("unknown", "application/vnd.example.layer.v1.squashfs")])
    func unsupportedLayer(variant: String, named: String) throws {
        let scratch = try ArchiveScratch()
        try OCIImageFixture.make(in: scratch.path, format: "oci", variant: variant)
        let root = try scratch.directory("root")
        let error = #expect(throws: OCIError.self) { try OCIImageUnpacker(source: scratch.file("layout")).unpack(into: root) }
        #expect(error?.description == "unsupported layer media type \(named)" || error?.description.hasPrefix("unsupported layer media type \(named)") == true,
                "\(String(describing: error))")
        #expect(archiveListing(root).isEmpty)
    }

    @Test("a layer blob altered after it was digested")
    func tamperedLayer() throws {
        let scratch = try ArchiveScratch()
        try OCIImageFixture.make(in: scratch.path, format: "oci", variant: "tampered")
        let error = #expect(throws: OCIError.self) {
            try OCIImageUnpacker(source: scratch.file("layout")).unpack(into: try scratch.directory("root"))
        }
        guard case .digestMismatch(let blob, _, _)? = error else {
            Issue.record("expected a digest mismatch, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains(blob) == true && blob.hasPrefix("sha256:"))
        #expect(error?.cofferError.code == .integrity)
    }

    @Test("an index with no linux/amd64 image names what it has")
    func noAmd64() throws {
        let scratch = try ArchiveScratch()
        try OCIImageFixture.make(in: scratch.path, format: "oci", variant: "arm-only")
        let error = #expect(throws: OCIError.self) {
            try OCIImageUnpacker(source: scratch.file("layout")).unpack(into: try scratch.directory("root"))
        }
        #expect(error?.description.contains("no linux/amd64 image (it has: linux/arm64/v8)") == true, "\(String(describing: error))")
    }

    @Test("a directory that is no image")
    func notAnImage() throws {
        let scratch = try ArchiveScratch()
        let empty = try scratch.directory("empty")
        let error = #expect(throws: OCIError.self) {
            try OCIImageUnpacker(source: empty).unpack(into: try scratch.directory("root"))
        }
        #expect(error?.description.contains("neither oci-layout nor manifest.json") == true)
    }
}
