import CofferCore

/// `NAME[:TAG]` as a user types it; the tag defaults to `latest`, as in Docker.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var name: String
    public var tag: String

    public init(parsing text: String) throws(CofferError) {
        var name = text
        var tag = "latest"
        if let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") {
            name = String(text[..<colon])
            tag = String(text[text.index(after: colon)...])
        }
        guard !name.isEmpty, name.count <= 255,
            name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "._-/".contains($0)) }),
            let first = name.first, first.isLetter || first.isNumber
        else {
            throw CofferError(.invalidInput, "invalid image name \"\(text)\": use lower-case letters, digits and . _ - /")
        }
        guard !tag.isEmpty, tag.count <= 128,
            tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        else {
            throw CofferError(.invalidInput, "invalid tag in \"\(text)\": use letters, digits and . _ -")
        }
        self.name = name
        self.tag = tag
    }

    public var description: String { "\(name):\(tag)" }
    public static func < (a: Self, b: Self) -> Bool { a.description < b.description }
}
