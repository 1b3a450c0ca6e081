import Foundation

/// A directory under /tmp removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "coffer-test") throws {
        var template = Array("\(NSTemporaryDirectory())/\(label)-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw TestFailure("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    @discardableResult
    public func write(_ name: String, _ contents: String, mode: Int = 0o644) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target)
        return target
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The result of running a real program.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program to completion, with its output captured and `input` (if any) as its standard
/// input (else /dev/null).
@discardableResult
public func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil, input: String? = nil
) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
    process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let inputPipe = input.map { _ in Pipe() }
    process.standardInput = inputPipe ?? FileHandle.nullDevice
    try process.run()
    if let inputPipe, let input {
        try inputPipe.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        try inputPipe.fileHandleForWriting.close()
    }
    // Read both pipes concurrently so neither fills and blocks the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let errData = errBox.data
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs a shell command line and throws unless it succeeds.
@discardableResult
public func sh(_ command: String, directory: String? = nil) throws -> String {
    let result = try run("/bin/sh", ["-c", command], directory: directory)
    guard result.status == 0 else {
        throw TestFailure("`\(command)` failed with \(result.status): \(result.stderr)\(result.stdout)")
    }
    return result.stdout
}

/// The VM tests' kernel caches, beside the build (decision 0040). `coffer` (`.build-vm/home`):
/// `coffer setup`'s default, Coffer's own kernel, which every `coffer run` test boots. `debian`
/// (`.build-vm/debian`): Debian's cloud kernel with its modules (`coffer setup --kernel-package`),
/// for the tests of module loading and the stock-tools VM. Two homes, so neither suite's setup
/// moves the other's `kernel/default`.
public enum VMHomes {
    public static var coffer: String { "\(Repository.root())/.build-vm/home" }
    public static var debian: String { "\(Repository.root())/.build-vm/debian" }
    public static let debianPackage = "linux-image-cloud-amd64"
}

public enum Repository {
    /// The repository root: the nearest directory above `file` holding Package.swift.
    public static func root(from file: String = #filePath) -> String {
        var dir = (file as NSString).deletingLastPathComponent
        while dir != "/" {
            if FileManager.default.fileExists(atPath: "\(dir)/Package.swift") { return dir }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return "."
    }

    /// A built executable of this package (tests run after `swift build --build-tests`).
    public static func executable(_ name: String) -> String {
        let here = (CommandLine.arguments[0] as NSString).deletingLastPathComponent
        for candidate in [here, "\(root())/.build/debug"] {
            let path = "\(candidate)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return "\(root())/.build/debug/\(name)"
    }
}

/// The real test vectors (quotes, reports, collateral, certificates) in ../shared/vectors, beside
/// the checkout as CI lays it out. Every test that needs one goes through here, so a missing
/// vector fails the test with the exact path expected instead of a bare "file not found".
public enum Vectors {
    /// The directory: `shared/vectors` in the parent of the repository root.
    public static var directory: String {
        ((Repository.root() as NSString).deletingLastPathComponent as NSString).appendingPathComponent("shared/vectors")
    }

    /// The path of `relative` (e.g. "snp/milan-vcek.der"), which must exist.
    public static func path(_ relative: String) throws -> String {
        let path = relative.isEmpty ? directory : "\(directory)/\(relative)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw TestFailure("""
                test vector missing: expected \(path) — the ../shared directory (with vectors/) must sit \
                beside the checkout at \(Repository.root()), as CI lays it out
                """)
        }
        return path
    }

    public static func data(_ relative: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: try path(relative)))
    }

    public static func bytes(_ relative: String) throws -> [UInt8] { Array(try data(relative)) }

    public static func text(_ relative: String) throws -> String {
        try String(decoding: data(relative), as: UTF8.self)
    }
}

/// Samples `sample` until `done` holds for its value or about `seconds` have passed (a bound on
/// waiting, never a timing assertion) and returns the last value, for the caller's expectations.
@discardableResult
public func poll<T>(for seconds: Double, every interval: Double = 0.1, _ sample: () throws -> T, until done: (T) -> Bool) rethrows -> T {
    var value = try sample()
    for _ in 0..<max(1, Int(seconds / interval)) where !done(value) {
        usleep(useconds_t(interval * 1_000_000))
        value = try sample()
    }
    return value
}
