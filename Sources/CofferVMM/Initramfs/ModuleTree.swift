import Foundation

/// The module tree of a kernel (`lib/modules/<release>`): which modules are files, which are built
/// into the kernel, and in what order a set of them must be loaded.
public struct ModuleTree: Sendable {
    /// A module to load: its name, its path relative to the tree, and its bytes.
    public struct Module: Sendable, Equatable {
        public var name: String
        public var relativePath: String
        public var bytes: [UInt8]
    }

    public let root: String
    /// Normalized module name → path relative to `root`.
    private let files: [String: String]
    /// Modules shipped compressed (Debian 12's kernels ship plain `.ko`; others compress).
    private let compressed: [String: String]
    /// Normalized names of modules compiled into the kernel image.
    private let builtin: Set<String>

    public init(root: String) throws {
        self.root = root
        guard let builtinList = try? String(contentsOfFile: "\(root)/modules.builtin", encoding: .utf8) else {
            throw VMMError.kernelPackage("\(root)/modules.builtin is missing: not a kernel module tree")
        }
        builtin = Set(builtinList.split(separator: "\n").map { ModuleName.fromPath(String($0)) })
        var files: [String: String] = [:], compressed: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: "\(root)/kernel")
        while let relative = walker?.nextObject() as? String {
            if let suffix = [".ko.xz", ".ko.zst", ".ko.gz"].first(where: { relative.hasSuffix($0) }) {
                compressed[ModuleName.fromPath(String(relative.dropLast(suffix.count - 3)))] = "kernel/\(relative)"
            }
            guard relative.hasSuffix(".ko") else { continue }
            // Two files with one module name: keep the same one whatever the directory order.
            let name = ModuleName.fromPath(relative), path = "kernel/\(relative)"
            if let existing = files[name], existing < path { continue }
            files[name] = path
        }
        self.files = files
        self.compressed = compressed
    }

    public func isBuiltin(_ name: String) -> Bool { builtin.contains(ModuleName.normalized(name)) }

    /// The modules to load for `names`, each after its dependencies (from `.modinfo depends=`),
    /// without duplicates and without built-in ones. Deterministic: depth-first in the order given.
    public func loadOrder(for names: [String]) throws -> [Module] {
        var order: [Module] = []
        var done: Set<String> = []
        var inProgress: [String] = []

        func visit(_ requested: String, neededBy: String?) throws {
            let name = ModuleName.normalized(requested)
            if done.contains(name) || builtin.contains(name) { return }
            guard !inProgress.contains(name) else {
                throw VMMError.kernelModule("dependency cycle: \((inProgress + [name]).joined(separator: " → "))")
            }
            guard let relative = files[name] else {
                if let packed = compressed[name] {
                    throw VMMError.kernelModule("\(requested) is shipped compressed (\(packed)); Coffer loads only uncompressed .ko files so far")
                }
                let reason = neededBy.map { " (needed by \($0))" } ?? ""
                throw VMMError.kernelModule("\(requested)\(reason) is neither built into the kernel nor a module file under \(root)/kernel")
            }
            let path = "\(root)/\(relative)"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw VMMError.file(path: path, reason: "cannot read the kernel module")
            }
            let bytes = [UInt8](data)
            let info = try ModuleInfo(elf: bytes, path: path)
            inProgress.append(name)
            for dependency in info.depends { try visit(dependency, neededBy: name) }
            inProgress.removeLast()
            done.insert(name)
            order.append(Module(name: name, relativePath: relative, bytes: bytes))
        }

        for name in names { try visit(name, neededBy: nil) }
        return order
    }
}
