import CofferCore
import CofferImage
import Foundation
import Testing

/// Golden: the canonical JSON of a whole manifest, which is what the image id hashes. An image that
/// pins no broker encodes no `kbsKey` (so its id is what it was before the field existed); one
/// that pins a broker carries the key's PEM and gets another id (decision 0037).
@Suite struct ImageManifestEncodingTests {
    static let pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"

    static func manifest(kbsKey: String? = nil) -> ImageManifest {
        ImageManifest(
            rootfs: .init(
                digest: "sha256:" + String(repeating: "11", count: 32), size: 8192,
                verity: .init(dataBlocks: 2, rootHash: String(repeating: "22", count: 32), salt: String(repeating: "33", count: 32),
                              uuid: "00000000-0000-0000-0000-000000000001", hashDigest: "sha256:" + String(repeating: "44", count: 32), hashSize: 4096)),
            config: ImageConfig(entrypoint: ["/app"], cmd: ["--serve"], env: ["PATH=/bin"], workdir: "/srv", user: "1000:1000", kbsKey: kbsKey),
            inputs: [BuildInput(kind: .binary, digest: "sha256:" + String(repeating: "55", count: 32), destination: "/app")])
    }

    static let unpinned = #"{"config":{"cmd":["--serve"],"entrypoint":["/app"],"env":["PATH=/bin"],"exec":{"mode":"deny"},"user":"1000:1000","workdir":"/srv"},"inputs":[{"destination":"/app","digest":"sha256:5555555555555555555555555555555555555555555555555555555555555555","kind":"binary"}],"mediaType":"application/vnd.coffer.image.manifest.v1+json","rootfs":{"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","format":"erofs","size":8192,"verity":{"dataBlockSize":4096,"dataBlocks":2,"hashAlgorithm":"sha256","hashBlockSize":4096,"hashDigest":"sha256:4444444444444444444444444444444444444444444444444444444444444444","hashSize":4096,"rootHash":"2222222222222222222222222222222222222222222222222222222222222222","salt":"3333333333333333333333333333333333333333333333333333333333333333","uuid":"00000000-0000-0000-0000-000000000001"}},"schemaVersion":1}"#

    @Test func anUnpinnedManifestEncodesNoBroker() throws {
        let json = try Self.manifest().canonicalJSON()
        #expect(String(decoding: json, as: UTF8.self) == Self.unpinned)
        #expect(ImageManifest.id(of: json) == "sha256:" + Hex.encode(SHA256Digest.hash(Array(Self.unpinned.utf8))))
        #expect(try ImageManifest.decode(json, source: "test") == Self.manifest())
    }

    @Test func aPinnedManifestCarriesTheKeyAndHasAnotherId() throws {
        let json = try Self.manifest(kbsKey: Self.pem).canonicalJSON()
        let expected = Self.unpinned.replacingOccurrences(
            of: #""exec":{"mode":"deny"},"#,
            with: #""exec":{"mode":"deny"},"kbsKey":"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----","#)
        #expect(String(decoding: json, as: UTF8.self) == expected)
        #expect(ImageManifest.id(of: json) != ImageManifest.id(of: try Self.manifest().canonicalJSON()))
        #expect(try ImageManifest.decode(json, source: "test").config.kbsKey == Self.pem)
    }
}
