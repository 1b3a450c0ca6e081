import Foundation
import Testing

/// Real files and real tools for the archive, OCI and Cofferfile tests: a scratch directory per
/// test, and `tar`, `gzip` and `python3` run as processes.
final class ArchiveScratch {
    let path: String

    init() throws {
        let base = NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
        var template = Array((base + "/coffer-archive-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw ArchiveToolFailure(message: "mkdtemp failed")
        }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ relative: String) -> String { path + "/" + relative }

    /// Makes a directory (and its parents) inside the scratch directory and returns its path.
    @discardableResult
    func directory(_ relative: String) throws -> String {
        try FileManager.default.createDirectory(atPath: file(relative), withIntermediateDirectories: true)
        return file(relative)
    }

    func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: file(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: file(relative), encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool {
        var info = stat()
        return lstat(file(relative), &info) == 0
    }
}

struct ArchiveToolFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

enum ArchiveTool {
    /// Runs a tool found on PATH; a missing tool or a failure is an error, never a skip.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], in directory: String? = nil, input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ArchiveToolFailure(message: "\(tool) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(String(decoding: err, as: UTF8.self))")
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Runs a Python script (python3's tarfile module makes the hostile archives `tar` refuses to).
    static func python(_ script: String, in directory: String) throws {
        try run("python3", ["-c", script], in: directory)
    }
}

/// File metadata as the tests check it.
struct ArchiveFileStatus {
    var info = stat()

    init?(_ path: String) {
        guard lstat(path, &info) == 0 else { return nil }
    }

    var type: mode_t { info.st_mode & S_IFMT }
    var permissions: mode_t { info.st_mode & 0o7777 }
    var isDirectory: Bool { type == S_IFDIR }
    var isRegular: Bool { type == S_IFREG }
    var isSymlink: Bool { type == S_IFLNK }
}

func archiveSymlinkTarget(_ path: String) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: path)
}

/// The names in a directory, sorted.
func archiveListing(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}
