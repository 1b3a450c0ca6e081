import Crypto

/// SHA-256 of one block with the salt in front (hash type 1: cryptsetup `verify_hash_block`, the
/// kernel's `verity_hash` with `version >= 1`). The salt is absorbed once; each block copies that
/// state, so a block costs one SHA-256 over its own bytes.
struct VerityHasher: Sendable {
    private let salted: SHA256

    init(salt: [UInt8]) {
        var hasher = SHA256()
        hasher.update(data: salt)
        salted = hasher
    }

    /// Writes the 32-byte digest of `block` to `digest`.
    func hash(_ block: UnsafeRawBufferPointer, into digest: UnsafeMutableRawPointer) {
        var hasher = salted
        hasher.update(bufferPointer: block)
        hasher.finalize().withUnsafeBytes { bytes in
            UnsafeMutableRawBufferPointer(start: digest, count: VerityGeometry.digestSize).copyMemory(from: bytes)
        }
    }

    func hash(_ block: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = salted
        hasher.update(bufferPointer: block)
        return Array(hasher.finalize())
    }
}
