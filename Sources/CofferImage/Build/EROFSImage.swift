import CofferCore

/// The read-only root file system, made by Debian's mkfs.erofs (erofs-utils 1.5).
///
/// Determinism: `-T0` gives every inode the same timestamp, `-U` a UUID derived from the inputs,
/// `-x-1` drops extended attributes (the staging directory's own labels must not leak in), and
/// mkfs.erofs sorts directory entries itself, so creation order on the host does not matter
/// (checked by a test that builds the same tree made in two orders). Data is stored uncompressed:
/// dm-verity then checks exactly the blocks the kernel reads.
enum EROFSImage {
    static let blockSize: Int64 = 4096

    static func make(from root: String, to output: String, uuid: String, allRoot: Bool) throws(CofferError) {
        var arguments = ["--quiet", "-T0", "-U", uuid, "-x-1"]
        if allRoot { arguments.append("--all-root") }
        arguments += [output, root]
        try ExternalTool.run("mkfs.erofs", arguments, package: "erofs-utils")
        // dm-verity covers whole 4 KiB blocks; mkfs.erofs already writes whole blocks, but check
        // rather than assume, since a ragged tail would be unverifiable.
        let size = try FileSystem.size(output)
        guard size > 0, size % blockSize == 0 else {
            throw CofferError(.internalError, "mkfs.erofs wrote \(size) bytes, not a whole number of 4 KiB blocks")
        }
    }
}
