/// A Coffer image id in a resource policy: the image's full SHA-256 digest, 64 hex digits,
/// optionally written `sha256:…` as `coffer images` prints it.
///
/// Security: an image id is compared exactly, never as a prefix. A short id in a policy would
/// admit every image whose digest starts with it, and an attacker who can build images can
/// grind a digest with any short prefix in seconds (16 bits take ~65 000 tries).
enum ImageID {
    /// The lower-case 64-hex digest, or nil if `text` is not a full SHA-256 image id.
    static func normalize(_ text: String) -> String? {
        let hex = (text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text).lowercased()
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return hex
    }

    /// The claim value a launcher that bound `id` produces: the 32-byte digest zero-padded to the
    /// TEE's init-data field (`length` bytes: TDX `mr_config_id` 48, SGX `config_id` 64, SNP and
    /// sample `host_data` 32), in lower-case hex.
    static func claimValue(_ id: String, fieldLength length: Int) -> String {
        id + String(repeating: "0", count: max(0, 2 * length - id.utf8.count))
    }
}
