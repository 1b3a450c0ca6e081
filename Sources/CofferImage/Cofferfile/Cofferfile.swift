import Foundation
import Yams

/// Reads Cofferfiles (the schema is on `CofferfileSpec`).
public enum Cofferfile {
    /// The keys a Cofferfile may use at its top level.
    static let topLevelKeys: Set<String> = [
        "name", "from", "binaries", "files", "entrypoint", "cmd", "env", "workdir", "user", "memory", "exec",
    ]

    /// Reads and parses the Cofferfile at `path`; relative paths in it are resolved against its
    /// directory.
    public static func load(path: String) throws(CofferfileError) -> CofferfileSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CofferfileError(path: path, line: nil, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CofferfileError(path: path, line: nil, message: "the file is not UTF-8 text")
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let directory = (absolute as NSString).deletingLastPathComponent
        return try parse(text, directory: directory, path: path)
    }

    /// Parses Cofferfile text; `directory` anchors relative paths, `path` names the file in errors.
    public static func parse(_ text: String, directory: String, path: String) throws(CofferfileError) -> CofferfileSpec {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            switch error {
            case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
                throw CofferfileError(path: path, line: mark.line, message: "not valid YAML: \(problem)")
            case let .duplicatedKeysInMapping(duplicates, context):
                throw CofferfileError(path: path, line: context.mark.line,
                                      message: "key '\(duplicates.joined(separator: "', '"))' appears twice in one mapping")
            default:
                throw CofferfileError(path: path, line: nil, message: "not valid YAML: \(error)")
            }
        } catch {
            throw CofferfileError(path: path, line: nil, message: "not valid YAML: \(error)")
        }
        guard let root, case .mapping = root else {
            throw CofferfileError(path: path, line: root?.mark?.line, message: "the top level must be a mapping of keys (name, from, files, ...)")
        }
        return try CofferfileReader(path: path, directory: directory).read(root)
    }
}
