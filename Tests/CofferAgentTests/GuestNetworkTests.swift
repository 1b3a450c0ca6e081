@testable import CofferAgent
import Foundation
import Testing

/// The resolver file the guest writes on its overlay, on real directories: made where the image
/// has no /etc, never written through a link the image ships.
@Suite struct GuestNetworkTests {
    let resolver = "nameserver 10.0.2.3\n"

    func root(_ setUp: (String) throws -> Void) throws -> String {
        let path = NSTemporaryDirectory() + "coffer-resolver-\(UUID().uuidString)/"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try setUp(path)
        return path
    }

    func contents(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    func isSymbolicLink(_ path: String) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
    }

    @Test func anImageWithoutEtcGetsOne() throws {
        let path = try root { _ in }
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try GuestNetwork.writeResolver(root: path) == nil)
        #expect(contents(path + "etc/resolv.conf") == resolver)
    }

    @Test func anExistingFileIsReplacedWhole() throws {
        let path = try root { try FileManager.default.createDirectory(atPath: $0 + "etc", withIntermediateDirectories: true)
            try "nameserver 192.0.2.1\nnameserver 192.0.2.2\nsearch example.com\n".write(toFile: $0 + "etc/resolv.conf", atomically: false, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try GuestNetwork.writeResolver(root: path) == nil)
        #expect(contents(path + "etc/resolv.conf") == resolver)
    }

    /// A link to a file the workload reads, and a dangling link as systemd-resolved images ship:
    /// the link is replaced by a file of its own; its target is never written or made.
    @Test(arguments: ["target", "../run/systemd/resolve/stub-resolv.conf"])
    func aSymbolicLinkIsReplacedNotFollowed(destination: String) throws {
        let path = try root {
            try FileManager.default.createDirectory(atPath: $0 + "etc", withIntermediateDirectories: true)
            try "the workload's own configuration\n".write(toFile: $0 + "etc/target", atomically: false, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: $0 + "etc/resolv.conf", withDestinationPath: destination)
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try GuestNetwork.writeResolver(root: path) == nil)
        #expect(!isSymbolicLink(path + "etc/resolv.conf"))
        #expect(contents(path + "etc/resolv.conf") == resolver)
        #expect(contents(path + "etc/target") == "the workload's own configuration\n")
        #expect(!FileManager.default.fileExists(atPath: path + "run"))
    }

    /// An /etc that is a link (to anywhere) or a file is left alone: the guest does without.
    @Test func anEtcThatIsALinkOrAFileIsLeftAlone() throws {
        let linked = try root {
            try FileManager.default.createDirectory(atPath: $0 + "elsewhere", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: $0 + "etc", withDestinationPath: "elsewhere")
        }
        defer { try? FileManager.default.removeItem(atPath: linked) }
        #expect(try GuestNetwork.writeResolver(root: linked)?.contains("/etc is a symbolic link or not a directory") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: linked + "elsewhere").isEmpty)

        let file = try root { try "not a directory\n".write(toFile: $0 + "etc", atomically: false, encoding: .utf8) }
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try GuestNetwork.writeResolver(root: file) != nil)
        #expect(contents(file + "etc") == "not a directory\n")
    }

    /// A FIFO there would block PID 1 on open; a directory cannot be written: both are left alone.
    @Test func aFIFOOrADirectoryIsLeftAlone() throws {
        let fifo = try root {
            try FileManager.default.createDirectory(atPath: $0 + "etc", withIntermediateDirectories: true)
            guard mkfifo($0 + "etc/resolv.conf", 0o644) == 0 else { throw POSIXError(.EIO) }
        }
        defer { try? FileManager.default.removeItem(atPath: fifo) }
        #expect(try GuestNetwork.writeResolver(root: fifo) != nil)

        let directory = try root { try FileManager.default.createDirectory(atPath: $0 + "etc/resolv.conf", withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try GuestNetwork.writeResolver(root: directory) != nil)
    }
}
