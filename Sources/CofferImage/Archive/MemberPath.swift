/// A member name checked and split into components, relative to the extraction root.
///
/// `./usr/bin/` becomes `["usr", "bin"]`. Absolute names and names with `..` components are
/// refused rather than stripped: an archive that carries them was made carelessly or with
/// intent, and either way the user should see it.
struct MemberPath: Equatable {
    var components: [String]

    enum Problem: Error, Equatable {
        case absolute
        case parentComponent
    }

    init(_ name: String) throws(Problem) {
        guard !name.hasPrefix("/") else { throw .absolute }
        var parts: [String] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            /// `..` could climb out of the root; refuse it anywhere in the name, even where it
            /// would stay inside, as tar itself warns about such members.
            guard part != ".." else { throw .parentComponent }
            parts.append(String(part))
        }
        components = parts
    }

    init(components: [String]) { self.components = components }

    var isRoot: Bool { components.isEmpty }
    var name: String { components.last ?? "." }
    var parent: MemberPath { MemberPath(components: Array(components.dropLast())) }
    var joined: String { components.joined(separator: "/") }

    /// Whether a symlink target, read from the directory `directoryDepth` levels below the root,
    /// climbs above the root. Absolute targets are root-relative in the guest and always stay in.
    static func symlinkTargetEscapes(_ target: String, directoryDepth: Int) -> Bool {
        if target.hasPrefix("/") { return false }
        var depth = directoryDepth
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                depth -= 1
                if depth < 0 { return true }
            } else {
                depth += 1
            }
        }
        return false
    }
}
