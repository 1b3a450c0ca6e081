import CofferCore
import Foundation

/// Runs a host tool (mkfs.erofs) and turns its failure into an error quoting what it said.
enum ExternalTool {
    static func locate(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func run(_ name: String, _ arguments: [String], package: String) throws(CofferError) {
        guard let executable = locate(name) else {
            throw CofferError(.notFound, "\(name) not found: install Debian's \(package) package (make deps does)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw CofferError(.system, "cannot start \(executable)", cause: error as NSError)
        }
        let output = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let said = String(decoding: output, as: UTF8.self)
                .split(separator: "\n").suffix(3).joined(separator: "; ")
            throw CofferError(.system, "\(name) failed (status \(process.terminationStatus)): \(said)")
        }
    }
}
