import CofferWire
import Yams

/// Walks a Cofferfile's YAML nodes into a `CofferfileSpec`, checking each value's shape and
/// naming the key and line of anything wrong.
struct CofferfileReader {
    let path: String
    let directory: String

    func read(_ root: Node) throws(CofferfileError) -> CofferfileSpec {
        var spec = CofferfileSpec()
        for (key, value) in try entries(root, allowed: Cofferfile.topLevelKeys, context: "top level") {
            switch key {
            case "name": try readName(value, into: &spec)
            case "from": spec.base = try readBase(value)
            case "binaries": spec.binaries = try readCopies(value, key: key)
            case "files": spec.files = try readCopies(value, key: key)
            case "entrypoint": spec.entrypoint = try strings(value, key: key)
            case "cmd": spec.cmd = try strings(value, key: key)
            case "env": spec.env = try readEnv(value)
            case "workdir": spec.workdir = try absolutePath(try string(value, key: key), value, key: key)
            case "user": spec.user = try string(value, key: key)
            case "memory":
                let text = try string(value, key: key)
                guard let bytes = MemorySize.parse(text) else {
                    throw fail(value, "memory '\(text)' needs a number and a unit, e.g. 512M or 2G")
                }
                spec.memoryBytes = bytes
            case "exec": spec.exec = try readExec(value)
            default: break  // `entries` refused unknown keys already
            }
        }
        return spec
    }

    private func readName(_ node: Node, into spec: inout CofferfileSpec) throws(CofferfileError) {
        let text = try string(node, key: "name")
        let lastSlash = text.lastIndex(of: "/") ?? text.startIndex
        var name = text
        if let colon = text[lastSlash...].lastIndex(of: ":") {
            name = String(text[..<colon])
            let tag = String(text[text.index(after: colon)...])
            guard !tag.isEmpty, tag.count <= 128, tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
                throw fail(node, "tag '\(tag)' must be 1-128 letters, digits, '_', '.' or '-'")
            }
            spec.tag = tag
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "._-/".contains($0)) }) else {
            throw fail(node, "name '\(name)' must be lowercase letters, digits, '.', '_', '-' or '/'")
        }
        spec.name = name
    }

    private func readBase(_ node: Node) throws(CofferfileError) -> CofferfileSpec.Base {
        let pairs = try entries(node, allowed: ["rootfs", "oci"], context: "from")
        guard pairs.count == 1, let (key, value) = pairs.first else {
            throw fail(node, "from must name exactly one of rootfs or oci")
        }
        let source = resolve(try string(value, key: "from.\(key)"))
        return key == "rootfs" ? .rootfs(source) : .oci(source)
    }

    /// `SRC[:DEST]` strings or `{src, dest}` mappings. In the string form DEST starts at the last
    /// ':' that is followed by '/', so sources may contain colons.
    private func readCopies(_ node: Node, key: String) throws(CofferfileError) -> [CofferfileSpec.Copy] {
        guard case .sequence(let items) = node else { throw fail(node, "\(key) must be a list") }
        var copies: [CofferfileSpec.Copy] = []
        for item in items {
            var source: String
            var destination: String?
            if case .mapping = item {
                var fields: [String: String] = [:]
                for (field, value) in try entries(item, allowed: ["src", "dest"], context: "an entry of \(key)") {
                    fields[field] = try string(value, key: "\(key).\(field)")
                }
                guard let src = fields["src"] else { throw fail(item, "an entry of \(key) needs src") }
                source = src
                destination = fields["dest"]
            } else {
                let text = try string(item, key: key)
                source = text
                if let split = text.ranges(of: ":/").last {
                    source = String(text[..<split.lowerBound])
                    destination = String(text[text.index(after: split.lowerBound)...])
                }
            }
            guard !source.isEmpty else { throw fail(item, "an entry of \(key) has an empty source") }
            if let destination { _ = try absolutePath(destination, item, key: "\(key) dest") }
            copies.append(.init(source: resolve(source), destination: destination))
        }
        return copies
    }

    private func readEnv(_ node: Node) throws(CofferfileError) -> [String] {
        var result: [String] = []
        switch node {
        case .mapping:
            for (key, value) in try entries(node, allowed: nil, context: "env") {
                result.append(try envEntry(key, try string(value, key: "env.\(key)"), node))
            }
        case .sequence:
            for text in try strings(node, key: "env") {
                guard let equals = text.firstIndex(of: "=") else { throw fail(node, "env entry '\(text)' is not KEY=VALUE") }
                result.append(try envEntry(String(text[..<equals]), String(text[text.index(after: equals)...]), node))
            }
        default:
            throw fail(node, "env must be a mapping {KEY: VALUE} or a list [KEY=VALUE]")
        }
        return result
    }

    private func envEntry(_ key: String, _ value: String, _ node: Node) throws(CofferfileError) -> String {
        guard !key.isEmpty, !key.contains("="), !key.contains("\0"), !value.contains("\0") else {
            throw fail(node, "env key '\(key)' must be non-empty, without '=' or NUL")
        }
        return "\(key)=\(value)"
    }

    /// `deny`, `allow`, or a list of exact entries: a path (that argv alone), a list (that argv
    /// exactly) or `{argv, trailing_args, env, user, cwd}`. A missing user or cwd is the image's.
    private func readExec(_ node: Node) throws(CofferfileError) -> ExecPolicy {
        if case .scalar = node {
            switch try string(node, key: "exec") {
            case "deny": return .deny
            case "allow": return .allow
            case let other: throw fail(node, "exec '\(other)' must be deny, allow, or a list of exact entries")
            }
        }
        guard case .sequence(let items) = node else {
            throw fail(node, "exec must be deny, allow, or a list of exact entries")
        }
        var result: [ExecPolicy.Entry] = []
        for item in items {
            var entry: ExecPolicy.Entry
            switch item {
            case .scalar: entry = ExecPolicy.Entry(argv: [try string(item, key: "exec")])
            case .sequence: entry = ExecPolicy.Entry(argv: try strings(item, key: "exec"))
            default:
                entry = ExecPolicy.Entry(argv: [])
                var sawArgv = false
                for (key, value) in try entries(item, allowed: ["argv", "trailing_args", "env", "user", "cwd"], context: "an exec entry") {
                    switch key {
                    case "argv": entry.argv = try strings(value, key: "exec.argv"); sawArgv = true
                    case "trailing_args":
                        switch try string(value, key: "exec.trailing_args") {
                        case "true": entry.trailingArguments = true
                        case "false": entry.trailingArguments = false
                        case let other: throw fail(value, "exec.trailing_args '\(other)' must be true or false")
                        }
                    case "env": entry.env = try strings(value, key: "exec.env")
                    case "user": entry.user = try string(value, key: "exec.user")
                    default: entry.cwd = try string(value, key: "exec.cwd")
                    }
                }
                guard sawArgv else { throw fail(item, "an exec entry needs argv") }
            }
            do {
                try entry.validate()
            } catch {
                throw fail(item, error.description)
            }
            result.append(entry)
        }
        return .exact(result)
    }

    // MARK: Shapes

    /// A mapping's entries in order, refusing duplicate keys and (when `allowed` is given) keys
    /// outside it: a misspelt key must not silently drop configuration.
    private func entries(_ node: Node, allowed: Set<String>?, context: String) throws(CofferfileError) -> [(String, Node)] {
        guard case .mapping(let mapping) = node else { throw fail(node, "\(context) must be a mapping") }
        var seen: Set<String> = []
        var result: [(String, Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else { throw fail(keyNode, "keys in \(context) must be plain strings") }
            let key = scalar.string
            if let allowed, !allowed.contains(key) {
                throw fail(keyNode, "unknown key '\(key)' in \(context) (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard seen.insert(key).inserted else { throw fail(keyNode, "key '\(key)' appears twice in \(context)") }
            result.append((key, value))
        }
        return result
    }

    private func string(_ node: Node, key: String) throws(CofferfileError) -> String {
        guard case .scalar(let scalar) = node else { throw fail(node, "\(key) must be a single value") }
        /// A plain empty or `~`/`null` value is YAML's null: almost always a forgotten value.
        if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            throw fail(node, "\(key) has no value")
        }
        return scalar.string
    }

    private func strings(_ node: Node, key: String) throws(CofferfileError) -> [String] {
        guard case .sequence(let items) = node else { throw fail(node, "\(key) must be a list, e.g. [\"/bin/app\", \"--flag\"]") }
        var result: [String] = []
        for item in items { result.append(try string(item, key: "an entry of \(key)")) }
        return result
    }

    private func absolutePath(_ text: String, _ node: Node, key: String) throws(CofferfileError) -> String {
        guard text.hasPrefix("/") else { throw fail(node, "\(key) '\(text)' must be an absolute path in the image") }
        return text
    }

    /// A host path made absolute against the Cofferfile's directory, with `.` and `..` folded.
    private func resolve(_ text: String) -> String {
        let joined = text.hasPrefix("/") ? text : directory + "/" + text
        var parts: [Substring] = []
        for part in joined.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    private func fail(_ node: Node, _ message: String) -> CofferfileError {
        CofferfileError(path: path, line: node.mark?.line, message: message)
    }
}
