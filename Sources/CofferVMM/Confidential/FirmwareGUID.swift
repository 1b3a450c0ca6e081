import CofferCore

/// An EFI GUID in the byte order firmware stores it (UEFI spec, appendix A): the first three
/// fields little-endian, the last eight bytes as written. `96b582de-1fb2-45f7-baea-a366c55a082d`
/// is stored `de 82 b5 96 b2 1f f7 45 ba ea a3 66 c5 5a 08 2d`.
public struct FirmwareGUID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// `text` in the canonical 8-4-4-4-12 form. Only Coffer's own constants are parsed this way,
    /// so a malformed one is a programming error caught by the golden tests, not input.
    public init(_ text: String) {
        let hex = Hex.decode(String(text.filter { $0 != "-" })) ?? []
        precondition(hex.count == 16, "FirmwareGUID: \(text) is not a GUID")
        bytes = Array(hex[0..<4].reversed()) + Array(hex[4..<6].reversed()) + Array(hex[6..<8].reversed()) + Array(hex[8..<16])
    }

    /// The GUID stored as `stored` (16 bytes, as read from firmware).
    public init?(stored: [UInt8]) {
        guard stored.count == 16 else { return nil }
        bytes = stored
    }

    /// 16 bytes the caller has counted (a slice of a bounds-checked read).
    init(counted stored: ArraySlice<UInt8>) { bytes = Array(stored) }

    public var description: String {
        let text = Hex.encode(Array(bytes[0..<4].reversed()) + Array(bytes[4..<6].reversed()) + Array(bytes[6..<8].reversed()) + Array(bytes[8..<16]))
        let parts = [text.prefix(8), text.dropFirst(8).prefix(4), text.dropFirst(12).prefix(4), text.dropFirst(16).prefix(4), text.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
