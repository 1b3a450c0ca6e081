import CofferCore
import Foundation

/// Runs host programs (apt-get, dpkg) to completion and captures what they print.
enum HostTool {
    /// The absolute path of `name` on PATH, or nil.
    static func find(_ name: String) -> String? { ChildProcess.locate(name) }

    /// Foundation's Process rather than `ChildProcess` only because apt-get download needs a
    /// working directory, which posix_spawn cannot set from Swift here (addchdir_np is not visible).
    /// Runs `name` (a path, or a name looked up on PATH) with `arguments` in `directory`; returns
    /// standard output, throws with standard error when the exit status is not zero.
    @discardableResult
    static func run(_ name: String, _ arguments: [String], package: String, directory: String? = nil) throws -> String {
        guard let executable = name.contains("/") ? (access(name, X_OK) == 0 ? name : nil) : find(name) else { throw VMMError.missingTool(name, package: package) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain stderr on another thread so neither pipe fills and blocks the child.
        let errorData = LockedData()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errorData.set(errors.fileHandleForReading.readDataToEndOfFile())
            drained.signal()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        let stdout = String(decoding: outputData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            let stderr = String(decoding: errorData.get(), as: UTF8.self)
            throw VMMError.toolFailed(
                ([name] + arguments).joined(separator: " "), status: process.terminationStatus,
                output: (stderr + stdout).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return stdout
    }
}

/// Data handed from one thread to another.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
