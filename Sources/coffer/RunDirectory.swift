import CofferCore
import Foundation

/// A VM's files while it runs: `$COFFER_HOME/run/<random>/` with the agent socket,
/// the console and QEMU's log. Removed when the run ends.
struct RunDirectory {
    let path: String

    init(home: String) throws(CofferError) {
        let parent = "\(home)/run"
        var random = [UInt8](repeating: 0, count: 6)
        for index in random.indices { random[index] = UInt8.random(in: 0...255) }
        path = "\(parent)/\(Hex.encode(random))"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CofferError(.system, "cannot create the run directory \(path): \(error.localizedDescription)")
        }
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
