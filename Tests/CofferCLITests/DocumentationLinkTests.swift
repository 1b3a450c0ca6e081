import Foundation
import Testing

/// The README and docs/ are read in the repository alone (a clone, a release tarball, a web view of
/// it): every relative link must name a file inside the repository that exists.
@Suite struct DocumentationLinkTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// README.md and every Markdown file under docs/.
    static func pages() throws -> [URL] {
        var pages = [root.appendingPathComponent("README.md")]
        let docs = root.appendingPathComponent("docs")
        let walker = FileManager.default.enumerator(at: docs, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            if url.pathExtension == "md" { pages.append(url) }
        }
        return pages
    }

    /// The targets of `[text](target)` links, outside code blocks.
    static func links(in text: String) -> [String] {
        var targets: [String] = []
        var inCode = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inCode.toggle(); continue }
            guard !inCode else { continue }
            var rest = Substring(line)
            while let open = rest.range(of: "](") {
                let after = rest[open.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                targets.append(String(after[..<close]))
                rest = after[close...]
            }
        }
        return targets
    }

    @Test func linksStayInsideTheRepositoryAndResolve() throws {
        let rootPath = Self.root.standardizedFileURL.path
        var broken: [String] = []
        for page in try Self.pages() {
            let text = try String(contentsOf: page, encoding: .utf8)
            for target in Self.links(in: text) where !target.contains("://") && !target.hasPrefix("#") && !target.hasPrefix("mailto:") {
                let path = String(target.split(separator: "#", maxSplits: 1).first ?? "")
                let resolved = page.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL.path
                let name = page.path.replacingOccurrences(of: rootPath + "/", with: "")
                if !resolved.hasPrefix(rootPath + "/") && resolved != rootPath {
                    broken.append("\(name): \(target) leaves the repository")
                } else if !FileManager.default.fileExists(atPath: resolved) {
                    broken.append("\(name): \(target) does not exist")
                }
            }
        }
        #expect(broken.isEmpty, "\(broken.joined(separator: "\n"))")
    }

    /// The checker itself: a link out of the repository is seen (the README once linked ../shared).
    @Test func linkExtraction() {
        #expect(Self.links(in: "see [d](../shared/DESIGN.md) and [a](a.md#x)\n```\n[no](code)\n```") == ["../shared/DESIGN.md", "a.md#x"])
    }
}
