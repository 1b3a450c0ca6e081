import CofferWire
import Yams

extension CofferfileSpec {
    /// The spec as a Cofferfile (absolute paths, every string double-quoted), which parses back
    /// to an equal spec from any directory.
    public func yaml() throws -> String {
        func text(_ s: String) -> Node { Node(s, .implicit, .doubleQuoted) }
        func list(_ items: [String]) -> Node { Node(items.map(text)) }
        func copies(_ items: [Copy]) -> Node {
            Node(items.map { copy -> Node in
                var pairs: [(Node, Node)] = [(text("src"), text(copy.source))]
                if let dest = copy.destination { pairs.append((text("dest"), text(dest))) }
                return Node(pairs)
            })
        }
        var pairs: [(Node, Node)] = []
        if let reference { pairs.append((text("name"), text(reference))) }
        switch base {
        case .rootfs(let path)?: pairs.append((text("from"), Node([(text("rootfs"), text(path))])))
        case .oci(let path)?: pairs.append((text("from"), Node([(text("oci"), text(path))])))
        case nil: break
        }
        if !binaries.isEmpty { pairs.append((text("binaries"), copies(binaries))) }
        if !files.isEmpty { pairs.append((text("files"), copies(files))) }
        if let entrypoint { pairs.append((text("entrypoint"), list(entrypoint))) }
        if let cmd { pairs.append((text("cmd"), list(cmd))) }
        if !env.isEmpty { pairs.append((text("env"), list(env))) }
        if let workdir { pairs.append((text("workdir"), text(workdir))) }
        if let user { pairs.append((text("user"), text(user))) }
        if let memoryBytes { pairs.append((text("memory"), text(MemorySize.format(memoryBytes)))) }
        switch exec {
        case .deny: pairs.append((text("exec"), text("deny")))
        case .allow: pairs.append((text("exec"), text("allow")))
        case .exact(let entries):
            pairs.append((text("exec"), Node(entries.map { entry in
                var fields: [(Node, Node)] = [(text("argv"), list(entry.argv))]
                if entry.trailingArguments { fields.append((text("trailing_args"), text("true"))) }
                if !entry.env.isEmpty { fields.append((text("env"), list(entry.env))) }
                if let user = entry.user { fields.append((text("user"), text(user))) }
                if let cwd = entry.cwd { fields.append((text("cwd"), text(cwd))) }
                return Node(fields)
            })))
        }
        return try Yams.serialize(node: Node(pairs))
    }
}
