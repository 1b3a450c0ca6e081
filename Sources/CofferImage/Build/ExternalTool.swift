import CofferCore
import Foundation

/// Runs a host tool (mkfs.erofs) and turns its failure into an error quoting what it said.
///
/// `ChildProcess` (posix_spawn and waitpid) rather than Foundation's Process: no run loop, no
/// timers, so the builder behaves the same under a shifted clock (the reproducibility test runs it
/// under faketime, where Process.waitUntilExit never returns).
enum ExternalTool {
    static func run(_ name: String, _ arguments: [String], package: String) throws(CofferError) {
        guard let executable = ChildProcess.locate(name) else {
            throw CofferError(.notFound, "\(name) not found: install Debian's \(package) package (make deps does)")
        }
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { throw FileSystem.error("cannot create a pipe for \(name)") }
        let child: ChildProcess
        do {
            child = try ChildProcess(executable: executable, arguments: arguments, stderr: pipeFDs[1])
        } catch {
            close(pipeFDs[0])
            close(pipeFDs[1])
            throw error
        }
        close(pipeFDs[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            output += buffer[0..<n]
        }
        close(pipeFDs[0])
        child.wait()
        let exited = child.exitCode != nil
        let code = child.exitCode ?? 0
        guard exited && code == 0 else {
            let said = String(decoding: output, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: "; ")
            let how = exited ? "status \(code)" : "signal \(child.terminatingSignal ?? 0)"
            throw CofferError(.system, "\(name) failed (\(how)): \(said)")
        }
    }
}
